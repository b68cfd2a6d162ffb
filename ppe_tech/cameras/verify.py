"""Verify cameras concurrently: one process per camera, each under a time bound per phase.

Why processes: OpenCV serialises FFmpeg opens behind a global lock (unless
``OPENCV_FFMPEG_IS_THREAD_SAFE=1``), and a thread stuck inside FFmpeg can never be
stopped. A process can: the parent waits on every camera's pipe at once and kills
any capture that outlives its bound (``hard_limit(job)`` until the stream is received,
then a decode allowance). Processes come from a forkserver with OpenCV preloaded, so
starting one costs a fork, not an import of OpenCV.

Every camera receives its stream at once for the whole sample (receiving undecoded
packets costs little); decoding and judging the picture, which cost CPU, take one of
``parallel`` slots (``cameras.parallel``, default two per core), so a run of 64
cameras never has 64 decoders fighting over two cores.

Public API:
  ``select_cameras(site, ids=(), zone=None) -> list[Camera]``
  ``verify_cameras(site, cameras, *, sample=None, parallel=None, ...) -> list[dict]``
  ``run_verification(site, conn, ...) -> dict``: verify, write snapshots, store the run.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from ppe_tech.cameras import results
from ppe_tech.cameras.findings import finding, say, sort_findings, status_of
from ppe_tech.cameras.pak_entry import record_verification
from ppe_tech.cameras.sources import source_kind
from ppe_tech.cameras.stream import OVERLOADED, schedstat_wait_s, starved_finding
from ppe_tech.cameras.thresholds import effective_thresholds
from ppe_tech.errors import ConfigError
from ppe_tech.fsutil import atomic_write_bytes
from ppe_tech.i18n import _
from ppe_tech.site import Camera, Site
from ppe_tech.timeutil import utc_now

DEFAULT_SAMPLE_S = 3.0
MAX_WORKERS = 256  # camera processes at once: every camera is received for the whole sample
ANALYSIS_ALLOWANCE_S = 6.0  # process start, picture analysis and snapshot, on a busy machine
LIVE_WARMUP_S = 0.5  # keep in step with capture.LIVE_WARMUP_S (not imported: no cv2 here)
AFTER_RECEIPT = ("waiting", "decoding", "analysing")  # phases once the stream was received

EventHandler = Callable[[str, str, dict[str, Any]], None]  # (camera id, phase, data)


# Decode slots per core by default. With one, a laptop whose other programs keep every core
# busy gives the run's decoders half the CPU (CFS shares it per runnable thread), and 48
# cameras queue behind them: under one CPU hog per core, 48 cameras took 16.8 s with one
# slot per core and 12.4 s with two (median of 3); quiet, 11.2 s and 11.0 s.
SLOTS_PER_CORE = 2


def default_parallel() -> int:
    """Cameras decoding at once when ``cameras.parallel`` is not set: two per core."""
    return SLOTS_PER_CORE * max(1, os.cpu_count() or 1)


def select_cameras(site: Site, ids: Sequence[str] = (), zone: str | None = None) -> list[Camera]:
    """Cameras by id (in the given order) or by zone, else all; ConfigError if none match."""
    if ids:
        chosen = [site.camera(i) for i in dict.fromkeys(ids)]
        if zone:
            chosen = [c for c in chosen if c.zone == zone]
    else:
        chosen = [c for c in site.config.cameras if zone is None or c.zone == zone]
    if not chosen:
        if not site.config.cameras:
            raise ConfigError(_("no cameras in ppe.yaml (add them under `cameras:`)"))
        if ids:
            raise ConfigError(
                _("no camera in zone {zone!r} among {ids}").format(zone=zone, ids=", ".join(ids))
            )
        raise ConfigError(_("no camera in zone {zone!r}").format(zone=zone))
    return chosen


def camera_job(site: Site, camera: Camera, sample: float, mode: str = "verify") -> dict[str, Any]:
    kind = source_kind(camera.source)
    source = str(site.path(camera.source)) if kind == "file" else camera.source
    reference = site.references_dir / f"{camera.id}.png"
    return {
        "id": camera.id,
        "kind": kind,
        "source": source,
        "open_timeout": camera.open_timeout.total_seconds(),
        "read_timeout": camera.read_timeout.total_seconds(),
        "sample": sample,
        "expect": camera.expect.model_dump(),
        "thresholds": effective_thresholds(camera.thresholds),
        "reference": str(reference),
        "mode": mode,
    }


def hard_limit(job: dict[str, Any]) -> float:
    """Seconds after which a camera's capture is killed: open, first read, sample, one more read."""
    return (
        job["open_timeout"]
        + 2 * job["read_timeout"]
        + job["sample"]
        + LIVE_WARMUP_S
        + ANALYSIS_ALLOWANCE_S
    )


def _context():
    ctx = multiprocessing.get_context("forkserver")
    # warm: the one-time set-up of OpenCV, numpy and PyAV done once, inherited by every worker
    ctx.set_forkserver_preload(
        ["__main__", "ppe_tech.cameras.capture", "ppe_tech.cameras.verify", "ppe_tech.cameras.warm"]
    )
    return ctx


@dataclass
class _Worker:
    job: dict[str, Any]
    process: Any
    started: float
    deadline: float
    phase: str = "started"


class _Pool:
    """One process per camera, all receiving at once; ``parallel`` of them decode at once."""

    def __init__(self, jobs: list[dict[str, Any]], parallel: int, on_event: EventHandler | None):
        self.ctx = _context()
        self.slots = self.ctx.BoundedSemaphore(parallel)
        self.pending, self.on_event = list(jobs), on_event
        # waiting for a slot: the decodes of the cameras ahead, each within its allowance
        self.wait_limit = ANALYSIS_ALLOWANCE_S * (1 + len(jobs) / parallel)
        self.running: dict[Any, _Worker] = {}
        self.results: dict[str, dict[str, Any]] = {}

    def _event(self, camera_id: str, phase: str, data: dict[str, Any]) -> None:
        if self.on_event:
            self.on_event(camera_id, phase, data)

    def _start(self, job: dict[str, Any]) -> None:
        reader, writer = self.ctx.Pipe(duplex=False)
        process = self.ctx.Process(
            target=_entry, args=(job, writer, self.slots), name=f"camera-{job['id']}", daemon=True
        )
        started = time.monotonic()
        process.start()
        writer.close()
        self.running[reader] = _Worker(job, process, started, started + hard_limit(job))
        self._event(job["id"], "started", {})

    def _finish(self, conn, result: dict[str, Any]) -> None:
        worker = self.running.pop(conn)
        result["duration_ms"] = round(1000 * (time.monotonic() - worker.started))
        self.results[worker.job["id"]] = result
        conn.close()
        worker.process.join(timeout=2)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        self._event(worker.job["id"], "done", result)

    def _receive(self, conn) -> None:
        worker = self.running[conn]
        try:
            kind, data = conn.recv()
        except (EOFError, OSError):
            code = worker.process.exitcode
            self._finish(
                conn,
                {
                    "findings": [finding("no_frames", say("capture_died", code=code))],
                    "metrics": {},
                },
            )
            return
        if kind == "result":
            self._finish(conn, data)
            return
        worker.phase = data.get("phase", "?")
        if worker.phase in ("waiting", "analysing"):  # both wait on other cameras' work
            worker.deadline = time.monotonic() + self.wait_limit
        elif worker.phase == "decoding":
            worker.deadline = time.monotonic() + ANALYSIS_ALLOWANCE_S
        self._event(worker.job["id"], worker.phase, data)

    def _expire(self) -> None:
        now = time.monotonic()
        for conn, worker in list(self.running.items()):
            if now >= worker.deadline:
                late = _late(worker, now)  # reads the worker's CPU wait: before the kill
                worker.process.kill()
                self._finish(conn, {"findings": [late], "metrics": {}})

    def run(self) -> dict[str, dict[str, Any]]:
        try:
            while self.pending or self.running:
                while self.pending and len(self.running) < MAX_WORKERS:
                    self._start(self.pending.pop(0))
                soonest = min(w.deadline for w in self.running.values())
                for conn in wait(list(self.running), timeout=max(0.0, soonest - time.monotonic())):
                    self._receive(conn)
                self._expire()
        finally:
            for conn, worker in list(self.running.items()):
                worker.process.kill()
                worker.process.join()
                conn.close()
        return self.results


def _late(worker: _Worker, now: float) -> dict[str, Any]:
    """A worker killed at its deadline: the camera's timeout, unless the stream had been
    received and only the decoding and judging were too slow, or the worker spent its time
    waiting for a CPU: then this machine was too busy (``checker_overloaded``)."""
    limit = now - worker.started
    timeout = finding("timeout", say("no_result", seconds=f"{limit:.0f}"), limit_s=round(limit, 1))
    if worker.phase in AFTER_RECEIPT:
        return finding(
            OVERLOADED,
            say("busy_picture", seconds=f"{limit:.0f}"),
            severity="warning",
            phase=worker.phase,
            limit_s=round(limit, 1),
        )
    waited = schedstat_wait_s(worker.process.pid)
    busy = starved_finding(
        waited, limit, worker.job["thresholds"], say("no_result_within", seconds=f"{limit:.0f}")
    )
    return busy or timeout


def _entry(job: dict[str, Any], conn, slots) -> None:
    from ppe_tech.cameras.capture import worker_main

    worker_main(job, conn, slots)


def verify_cameras(
    site: Site,
    cameras: Sequence[Camera],
    *,
    sample: float | None = None,
    parallel: int | None = None,
    on_event: EventHandler | None = None,
    mode: str = "verify",
) -> list[dict[str, Any]]:
    """Measure and judge ``cameras`` concurrently; one dict per camera, in the given order.

    ``sample`` and ``parallel`` default to ``cameras.sample`` and ``cameras.parallel`` of
    ppe.yaml. Each dict: id, zone, room, source (masked), status, findings (masked
    messages), metrics, duration_ms, log (masked FFmpeg diagnostics), snapshot_jpeg (bytes
    or None) and, in ``mode="reference"``, reference_png.
    """
    settings = site.config.camera_settings
    sample = settings.sample.total_seconds() if sample is None else sample
    parallel = parallel or settings.parallel or default_parallel()
    if sample <= 0:
        raise ConfigError(_("--sample must be a positive number of seconds"))
    jobs = [camera_job(site, camera, sample, mode) for camera in cameras]
    raw = _Pool(jobs, parallel, on_event).run()
    return [_camera_result(site, camera, raw[camera.id]) for camera in cameras]


def _camera_result(site: Site, camera: Camera, result: dict[str, Any]) -> dict[str, Any]:
    findings = result.get("findings", [])
    log = site.redact(result.get("log", ""))
    for f in findings:
        f["message"] = site.redact(str(f.get("message", "")))
        if f["code"] == "unreachable" and f["message"] == say("not_opened"):
            detail = _ffmpeg_error(log)
            f["message"] = say("not_opened_because", detail=detail) if detail else f["message"]
    sort_findings(findings)
    return {
        "id": camera.id,
        "zone": camera.zone,
        "room": camera.room,
        "source": site.redact(camera.source),
        "status": status_of(findings),
        "findings": findings,
        "metrics": result.get("metrics", {}),
        "duration_ms": result.get("duration_ms"),
        "log": log,
        "snapshot_jpeg": result.get("snapshot_jpeg"),
        "reference_png": result.get("reference_png"),
    }


def overloaded(run: results.CameraRun) -> list[str]:
    """Ids of the cameras this machine was too busy to judge (``checker_overloaded``)."""
    return [c.id for c in run.cameras if OVERLOADED in c.codes]


def _ffmpeg_error(log: str) -> str:
    """The last error line FFmpeg wrote (``[OPENCV:FFMPEG:16] ...``), without the prefix."""
    lines = [
        line.split("]", 1)[1].strip()
        for line in log.splitlines()
        if line.startswith("[OPENCV:FFMPEG:")
    ]
    return lines[-1][:200] if lines else ""


def write_snapshot(site: Site, name: str, data: bytes) -> Path:
    """snapshots/NAME written atomically; its path."""
    path = site.file_in("snapshots", name)
    atomic_write_bytes(path, data)
    return path


def write_reference(site: Site, camera_id: str, png: bytes) -> str:
    """Write references/ID.png atomically; return its path."""
    path = site.file_in("references", f"{camera_id}.png")
    atomic_write_bytes(path, png)
    return str(path)


def capture_references(site: Site, cameras: Sequence[Camera]) -> list[dict[str, Any]]:
    """Capture a candidate reference of each camera and write its snapshot for a person to
    look at (``snapshots/reference-STAMP-ID.jpg``); one entry per camera: id, status
    ("captured" | "failed"), snapshot (path or None), findings and reference_png (bytes);
    save the approved ones with ``write_reference``."""
    stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
    out = []
    for r in verify_cameras(site, cameras, sample=1.0, mode="reference"):
        entry = {
            "id": r["id"],
            "status": "failed",
            "snapshot": None,
            "reference": None,
            "findings": r["findings"],
            "reference_png": r.get("reference_png"),
        }
        if entry["reference_png"] and r["snapshot_jpeg"]:
            name = f"reference-{stamp}-{r['id']}.jpg"
            entry.update(
                status="captured", snapshot=str(write_snapshot(site, name, r["snapshot_jpeg"]))
            )
        out.append(entry)
    return out


def _selection(camera_ids: Sequence[str], zone: str | None) -> str:
    selection = ",".join(camera_ids) if camera_ids else (f"zone:{zone}" if zone else "all")
    return selection + (f";zone:{zone}" if camera_ids and zone else "")


def run_verification(
    site: Site,
    conn: sqlite3.Connection,
    camera_ids: Sequence[str] = (),
    zone: str | None = None,
    *,
    exam_id: str | None = None,
    sample: float | None = None,
    parallel: int | None = None,
    on_event: EventHandler | None = None,
    responsible: str | None = None,
) -> results.CameraRun:
    """Verify the selected cameras, write one snapshot each, store the run, and record it in
    the PAK access log as a performance check; return it (``to_json()``: the documented
    JSON, the shape of ``results.latest_verification`` plus ``pak_entry_new``).
    """
    cameras = select_cameras(site, camera_ids, zone)
    sample = site.config.camera_settings.sample.total_seconds() if sample is None else sample
    run_id = results.start_run(
        conn, exam_id=exam_id, sample_s=sample, selection=_selection(camera_ids, zone)
    )
    checked = verify_cameras(site, cameras, sample=sample, parallel=parallel, on_event=on_event)
    for cam in checked:
        shot = cam.pop("snapshot_jpeg")
        name = f"cameras-run{run_id}-{cam['id']}.jpg"
        cam["snapshot"] = (
            str(write_snapshot(site, name, shot).relative_to(site.folder)) if shot else None
        )
    results.finish_run(conn, run_id, checked)
    run = results.load_run(conn, run_id, folder=site.folder)
    run.pak_entry, run.pak_entry_new = record_verification(site, conn, run, responsible=responsible)
    return run
