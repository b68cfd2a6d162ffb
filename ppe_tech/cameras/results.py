"""Stored camera verifications: the one place that writes and reads ``camera_runs`` and
``camera_results`` (for ``cameras show``, ``cameras list`` and the reports).

Snapshots are stored relative to the site folder; readers given ``folder`` return them
as absolute paths.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ppe_tech.cameras.findings import status_of
from ppe_tech.errors import ConfigError
from ppe_tech.i18n import _
from ppe_tech.site import Site
from ppe_tech.store import transaction
from ppe_tech.timeutil import iso, utc_now

_LATEST = "SELECT * FROM camera_runs WHERE finished_at IS NOT NULL"


@dataclass
class CameraResult:
    """One camera of a stored run."""

    id: str
    zone: str
    room: str
    source: str  # password masked
    status: str  # ok | warning | fail
    findings: list[dict[str, Any]]  # {"code", "severity", "message", ...numbers}
    metrics: dict[str, Any]
    snapshot: str | None  # absolute when read with the site folder, else relative to it
    duration_ms: int | None = None

    @property
    def codes(self) -> list[str]:
        return [f["code"] for f in self.findings]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CameraRun:
    """A stored verification: ``to_json()`` is the documented JSON (``verify --json``)."""

    run_id: int
    started_at: str  # ISO 8601 UTC
    finished_at: str | None
    exam_id: str | None
    sample_s: float
    selection: str
    status: str | None
    pak_entry: int | None  # the PAK journal entry of the check the run belongs to
    cameras: list[CameraResult] = field(default_factory=list)
    pak_entry_new: bool | None = None  # set by run_verification: whether the entry is new

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for cam in self.cameras:
            counts[cam.status] = counts.get(cam.status, 0) + 1
        return counts

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "pak_entry_new" or v is not None}
        out["counts"] = self.counts
        return out


def start_run(
    conn: sqlite3.Connection, *, exam_id: str | None, sample_s: float, selection: str
) -> int:
    """Record the start of a verification; its run_id."""
    with transaction(conn):
        return conn.execute(
            "INSERT INTO camera_runs (started_at, exam_id, sample_s, selection) VALUES (?, ?, ?, ?)",
            (iso(utc_now()), exam_id, sample_s, selection),
        ).lastrowid


def finish_run(conn: sqlite3.Connection, run_id: int, cameras: list[dict[str, Any]]) -> str:
    """Store one row per camera (``snapshot`` relative to the site folder) and close the run;
    the run's status."""
    rows = [
        (
            run_id,
            c["id"],
            c["zone"],
            c["room"],
            c["source"],
            c["status"],
            json.dumps(c["findings"], ensure_ascii=False),
            json.dumps(c["metrics"]),
            c.get("snapshot"),
            c.get("duration_ms") or 0,
        )
        for c in cameras
    ]
    status = status_of([{"severity": c["status"]} for c in cameras if c["status"] != "ok"])
    with transaction(conn):
        conn.executemany(
            "INSERT INTO camera_results (run_id, camera_id, zone, room, source, status, findings,"
            " metrics, snapshot, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute(
            "UPDATE camera_runs SET finished_at = ?, status = ? WHERE id = ?",
            (iso(utc_now()), status, run_id),
        )
    return status


def set_pak_entry(conn: sqlite3.Connection, run_id: int, seq: int) -> None:
    with transaction(conn):
        conn.execute("UPDATE camera_runs SET pak_entry = ? WHERE id = ?", (seq, run_id))


def _camera(row: sqlite3.Row, folder: Path | None) -> CameraResult:
    snapshot = row["snapshot"]
    if snapshot and folder is not None:
        snapshot = str(folder / snapshot)
    return CameraResult(
        id=row["camera_id"],
        zone=row["zone"],
        room=row["room"],
        source=row["source"],
        status=row["status"],
        findings=json.loads(row["findings"]),
        metrics=json.loads(row["metrics"]),
        snapshot=snapshot,
        duration_ms=row["duration_ms"],
    )


def _run(conn: sqlite3.Connection, run: sqlite3.Row, folder: Path | None) -> CameraRun:
    rows = conn.execute(
        "SELECT * FROM camera_results WHERE run_id = ? ORDER BY rowid", (run["id"],)
    ).fetchall()
    return CameraRun(
        run_id=run["id"],
        started_at=run["started_at"],
        finished_at=run["finished_at"],
        exam_id=run["exam_id"],
        sample_s=run["sample_s"],
        selection=run["selection"],
        status=run["status"],
        pak_entry=run["pak_entry"],
        cameras=[_camera(r, folder) for r in rows],
    )


def load_run(
    conn: sqlite3.Connection, ref: int | str = "latest", *, folder: Path | None = None
) -> CameraRun:
    """One stored run by number, or ``latest``; ConfigError if there is none."""
    if str(ref) == "latest":
        run = conn.execute(f"{_LATEST} ORDER BY id DESC LIMIT 1").fetchone()
        if run is None:
            raise ConfigError(_("no camera verification stored yet (run: ppe-tech cameras verify)"))
    else:
        try:
            number = int(ref)
        except ValueError:
            raise ConfigError(
                _("run must be a number or 'latest', not {ref!r}").format(ref=ref)
            ) from None
        run = conn.execute("SELECT * FROM camera_runs WHERE id = ?", (number,)).fetchone()
        if run is None:
            raise ConfigError(_("no camera verification run {run}").format(run=number))
    return _run(conn, run, folder)


def list_runs(
    conn: sqlite3.Connection, *, exam_id: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The newest runs first (of one exam with ``exam_id``), with counts per status."""
    where, args = ("WHERE exam_id = ?", (exam_id,)) if exam_id else ("", ())
    runs = []
    for run in conn.execute(
        f"SELECT * FROM camera_runs {where} ORDER BY id DESC LIMIT ?", (*args, limit)
    ):
        counts = {
            r["status"]: r["n"]
            for r in conn.execute(
                "SELECT status, count(*) AS n FROM camera_results WHERE run_id = ? GROUP BY status",
                (run["id"],),
            )
        }
        runs.append(
            {
                "run_id": run["id"],
                "started_at": run["started_at"],
                "finished_at": run["finished_at"],
                "exam_id": run["exam_id"],
                "selection": run["selection"],
                "status": run["status"],
                "counts": counts,
            }
        )
    return runs


def latest_results(
    conn: sqlite3.Connection, *, folder: Path | None = None
) -> dict[str, dict[str, Any]]:
    """The latest stored result of every camera id (``cameras list``, the console): its
    ``CameraResult.to_json()`` with ``run_id`` and ``finished_at``."""
    rows = conn.execute(
        "SELECT r.*, c.finished_at FROM camera_results r JOIN camera_runs c ON c.id = r.run_id "
        "WHERE c.finished_at IS NOT NULL ORDER BY r.run_id"
    ).fetchall()
    return {
        row["camera_id"]: {
            **_camera(row, folder).to_json(),
            "run_id": row["run_id"],
            "finished_at": row["finished_at"],
        }
        for row in rows
    }


def overview(site: Site, conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every camera of ppe.yaml with its reference picture and last verdict (``cameras list``)."""
    latest = latest_results(conn, folder=site.folder)
    rows = []
    for cam in site.config.cameras:
        ref = site.references_dir / f"{cam.id}.png"
        last = latest.get(cam.id)
        rows.append(
            {
                "id": cam.id,
                "zone": cam.zone,
                "room": cam.room,
                "source": site.redact(cam.source),
                "expect": cam.expect.model_dump(exclude_none=True),
                "reference": str(ref) if ref.is_file() else None,
                "last_status": last["status"] if last else None,
                "last_run": last["run_id"] if last else None,
                "last_findings": [f["code"] for f in last["findings"]] if last else [],
            }
        )
    return rows


def latest_verification(
    conn: sqlite3.Connection, exam_id: str | None = None, *, folder: Path | None = None
) -> dict | None:
    """The most recent finished camera verification (``CameraRun.to_json()``), or None.

    With ``exam_id``, the most recent one recorded for that exam (``cameras verify
    --exam``, or today's exam when it ran). Shape (a documented interface)::

        {"run_id": int, "started_at": ISO-8601 UTC, "finished_at": ISO-8601 UTC,
         "exam_id": str | None, "status": "ok" | "warning" | "fail",
         "cameras": [{"id", "zone", "room",
                      "source": str (password masked),
                      "status": "ok" | "warning" | "fail",
                      "findings": [{"code", "severity", "message", ...numbers}],
                      "snapshot": path of the JPEG (absolute with ``folder``) or None,
                      "metrics": {"connect_ms", "first_frame_ms", "fps", "width", "height",
                                  "decoded_frames", "stalls", "brightness", "sharpness_ratio",
                                  "covered_pct", "shift_pct", "rotation_deg", ...}}]}

    Finding codes: see ``ppe_tech.cameras.findings.CODES``.
    """
    if exam_id is None:
        run = conn.execute(f"{_LATEST} ORDER BY id DESC LIMIT 1").fetchone()
    else:
        run = conn.execute(
            f"{_LATEST} AND exam_id = ? ORDER BY id DESC LIMIT 1", (exam_id,)
        ).fetchone()
    return None if run is None else _run(conn, run, folder).to_json()
