"""Verify cameras concurrently: one process per camera, each under a hard time bound.

Why processes: OpenCV serialises FFmpeg opens behind a global lock (unless
``OPENCV_FFMPEG_IS_THREAD_SAFE=1``), and a thread stuck inside FFmpeg can never be
stopped. A process can: the parent waits on every camera's pipe at once and kills
any capture that outlives ``hard_limit(job)``. Processes come from a forkserver with
OpenCV preloaded, so starting one costs a fork, not an import of OpenCV.

Public API:
  ``select_cameras(site, ids=(), zone=None) -> list[Camera]``
  ``verify_cameras(site, cameras, sample=..., on_event=None, mode="verify") -> list[dict]``
  ``run_verification(site, conn, ...) -> dict``: verify, write snapshots, store the run.
"""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait
from typing import Any

from ppe_tech.cameras.sources import source_kind
from ppe_tech.cameras.thresholds import effective_thresholds
from ppe_tech.errors import ConfigError
from ppe_tech.site import Camera, Site

DEFAULT_SAMPLE_S = 3.0
MAX_PARALLEL = 48
ANALYSIS_ALLOWANCE_S = 6.0  # process start, picture analysis and snapshot, on a busy machine
LIVE_WARMUP_S = 0.5  # keep in step with capture.LIVE_WARMUP_S (not imported: no cv2 here)
FAIL_CODES_ORDER = (
    "unreachable", "timeout", "no_frames", "stalled", "low_fps", "resolution_mismatch", "black",
    "uniform", "overexposed", "frozen", "blurred", "covered", "moved", "no_reference",
)  # fmt: skip

EventHandler = Callable[[str, str, dict[str, Any]], None]  # (camera id, phase, data)


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
            raise ConfigError("no cameras in ppe.yaml (add them under `cameras:`)")
        raise ConfigError(
            f"no camera in zone {zone!r}" + (f" among {', '.join(ids)}" if ids else "")
        )
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
    ctx.set_forkserver_preload(["__main__", "ppe_tech.cameras.capture", "ppe_tech.cameras.verify"])
    return ctx


def status_of(findings: list[dict[str, Any]]) -> str:
    severities = {f.get("severity", "fail") for f in findings}
    return "fail" if "fail" in severities else "warning" if severities else "ok"


def _run_workers(
    jobs: list[dict[str, Any]], on_event: EventHandler | None
) -> dict[str, dict[str, Any]]:
    ctx = _context()

    pending = list(jobs)
    running: dict[
        Any, tuple[dict, Any, float, float]
    ] = {}  # conn -> (job, process, started, deadline)
    results: dict[str, dict[str, Any]] = {}

    def finish(conn, result: dict[str, Any]) -> None:
        job, process, started, _ = running.pop(conn)
        result["duration_ms"] = round(1000 * (time.monotonic() - started))
        results[job["id"]] = result
        conn.close()
        process.join(timeout=2)
        if process.is_alive():
            process.kill()
            process.join()
        if on_event:
            on_event(job["id"], "done", result)

    try:
        while pending or running:
            while pending and len(running) < MAX_PARALLEL:
                job = pending.pop(0)
                reader, writer = ctx.Pipe(duplex=False)
                process = ctx.Process(
                    target=_entry, args=(job, writer), name=f"camera-{job['id']}", daemon=True
                )
                started = time.monotonic()
                process.start()
                writer.close()
                running[reader] = (job, process, started, started + hard_limit(job))
                if on_event:
                    on_event(job["id"], "started", {})
            soonest = min(deadline for *_, deadline in running.values())
            for conn in wait(list(running), timeout=max(0.0, soonest - time.monotonic())):
                job = running[conn][0]
                try:
                    kind, data = conn.recv()
                except (EOFError, OSError):
                    code = running[conn][1].exitcode
                    finish(conn, {"findings": [{"code": "no_frames", "severity": "fail",
                                                "message": f"the capture process died (exit code {code})"}],
                                  "metrics": {}})  # fmt: skip
                    continue
                if kind == "result":
                    finish(conn, data)
                elif on_event:
                    on_event(job["id"], data.get("phase", "?"), data)
            now = time.monotonic()
            for conn, (_job, process, started, deadline) in list(running.items()):
                if now >= deadline:
                    process.kill()
                    limit = deadline - started
                    finish(conn, {"findings": [{"code": "timeout", "severity": "fail",
                                                "message": f"no result within {limit:.0f}s: capture stopped",
                                                "limit_s": round(limit, 1)}], "metrics": {}})  # fmt: skip
    finally:
        for conn, (_, process, *_rest) in list(running.items()):
            process.kill()
            process.join()
            conn.close()
    return results


def _entry(job: dict[str, Any], conn) -> None:
    from ppe_tech.cameras.capture import worker_main

    worker_main(job, conn)


def verify_cameras(
    site: Site,
    cameras: Sequence[Camera],
    sample: float = DEFAULT_SAMPLE_S,
    on_event: EventHandler | None = None,
    mode: str = "verify",
) -> list[dict[str, Any]]:
    """Measure and judge ``cameras`` concurrently; one dict per camera, in the given order.

    Each dict: id, zone, room, source (masked), status, findings (masked messages),
    metrics, duration_ms, log (masked FFmpeg diagnostics), snapshot_jpeg (bytes or
    None) and, in ``mode="reference"``, reference_png.
    """
    if sample <= 0:
        raise ConfigError("--sample must be a positive number of seconds")
    jobs = [camera_job(site, camera, sample, mode) for camera in cameras]
    raw = _run_workers(jobs, on_event)
    out = []
    for camera in cameras:
        result = raw[camera.id]
        findings = result.get("findings", [])
        log = site.redact(result.get("log", ""))
        for f in findings:
            f["message"] = site.redact(str(f.get("message", "")))
            if f["code"] == "unreachable" and f["message"] == "the stream could not be opened":
                detail = _ffmpeg_error(log)
                f["message"] += f": {detail}" if detail else ""
        findings.sort(
            key=lambda f: FAIL_CODES_ORDER.index(f["code"]) if f["code"] in FAIL_CODES_ORDER else 99
        )
        out.append({
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
        })  # fmt: skip
    return out


def _ffmpeg_error(log: str) -> str:
    """The last error line FFmpeg wrote (``[OPENCV:FFMPEG:16] ...``), without the prefix."""
    lines = [
        line.split("]", 1)[1].strip()
        for line in log.splitlines()
        if line.startswith("[OPENCV:FFMPEG:")
    ]
    return lines[-1][:200] if lines else ""


def _write_snapshot(site: Site, name: str, data: bytes) -> str:
    from ppe_tech.fsutil import atomic_write_bytes

    path = site.file_in("snapshots", name)
    atomic_write_bytes(path, data)
    return str(path.relative_to(site.folder))


def run_verification(
    site: Site,
    conn: sqlite3.Connection,
    camera_ids: Sequence[str] = (),
    zone: str | None = None,
    exam_id: str | None = None,
    sample: float = DEFAULT_SAMPLE_S,
    on_event: EventHandler | None = None,
) -> dict[str, Any]:
    """Verify the selected cameras, write one snapshot each, store the run, and append it to
    the PAK access log as a performance check; return it.

    The returned dict has the shape of ``results.latest_verification`` plus
    ``duration_ms`` per camera and ``pak_entry`` (the number of the log entry).
    """
    from ppe_tech.cameras.pak import record_verification
    from ppe_tech.cameras.results import load_run
    from ppe_tech.store import transaction
    from ppe_tech.timeutil import iso, utc_now

    cameras = select_cameras(site, camera_ids, zone)
    selection = ",".join(camera_ids) if camera_ids else (f"zone:{zone}" if zone else "all")
    if camera_ids and zone:
        selection += f";zone:{zone}"
    started = utc_now()
    with transaction(conn):
        run_id = conn.execute(
            "INSERT INTO camera_runs (started_at, exam_id, sample_s, selection) VALUES (?, ?, ?, ?)",
            (iso(started), exam_id, sample, selection),
        ).lastrowid
    results = verify_cameras(site, cameras, sample=sample, on_event=on_event)
    rows = []
    for r in results:
        snapshot = None
        if r["snapshot_jpeg"]:
            snapshot = _write_snapshot(
                site, f"cameras-run{run_id}-{r['id']}.jpg", r["snapshot_jpeg"]
            )
        rows.append((run_id, r["id"], r["zone"], r["room"], r["source"], r["status"],
                     json.dumps(r["findings"], ensure_ascii=False), json.dumps(r["metrics"]),
                     snapshot, r["duration_ms"] or 0))  # fmt: skip
    overall = status_of([{"severity": r["status"]} for r in results if r["status"] != "ok"])
    with transaction(conn):
        conn.executemany(
            "INSERT INTO camera_results (run_id, camera_id, zone, room, source, status, findings, metrics,"
            " snapshot, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute(
            "UPDATE camera_runs SET finished_at = ?, status = ? WHERE id = ?",
            (iso(utc_now()), overall, run_id),
        )
    run = load_run(conn, run_id)
    run["pak_entry"] = record_verification(site, conn, run)["seq"]
    return run


def write_reference(site: Site, camera_id: str, png: bytes) -> str:
    """Write references/ID.png atomically; return its path."""
    from ppe_tech.fsutil import atomic_write_bytes

    path = site.file_in("references", f"{camera_id}.png")
    atomic_write_bytes(path, png)
    return str(path)
