"""Stored camera verifications: read them back for ``cameras show`` and for reports."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from ppe_tech.errors import ConfigError


def _site_folder(conn: sqlite3.Connection) -> Path | None:
    for row in conn.execute("PRAGMA database_list"):
        if row[1] == "main" and row[2]:
            return Path(row[2]).parent
    return None


def _camera(row: sqlite3.Row, folder: Path | None) -> dict[str, Any]:
    snapshot = row["snapshot"]
    if snapshot and folder is not None:
        snapshot = str(folder / snapshot)
    return {
        "id": row["camera_id"],
        "zone": row["zone"],
        "room": row["room"],
        "source": row["source"],
        "status": row["status"],
        "findings": json.loads(row["findings"]),
        "snapshot": snapshot,
        "metrics": json.loads(row["metrics"]),
        "duration_ms": row["duration_ms"],
    }


def _run(conn: sqlite3.Connection, run: sqlite3.Row) -> dict[str, Any]:
    folder = _site_folder(conn)
    rows = conn.execute(
        "SELECT * FROM camera_results WHERE run_id = ? ORDER BY rowid", (run["id"],)
    ).fetchall()
    cameras = [_camera(r, folder) for r in rows]
    counts: dict[str, int] = {}
    for cam in cameras:
        counts[cam["status"]] = counts.get(cam["status"], 0) + 1
    return {
        "run_id": run["id"],
        "started_at": run["started_at"],
        "finished_at": run["finished_at"],
        "exam_id": run["exam_id"],
        "sample_s": run["sample_s"],
        "selection": run["selection"],
        "status": run["status"],
        "counts": counts,
        "cameras": cameras,
    }


def load_run(conn: sqlite3.Connection, ref: int | str = "latest") -> dict[str, Any]:
    """One stored run by number, or ``latest``; ConfigError if there is none."""
    if str(ref) == "latest":
        run = conn.execute(
            "SELECT * FROM camera_runs WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if run is None:
            raise ConfigError("no camera verification stored yet (run: ppe-tech cameras verify)")
    else:
        try:
            number = int(ref)
        except ValueError:
            raise ConfigError(f"run must be a number or 'latest', not {ref!r}") from None
        run = conn.execute("SELECT * FROM camera_runs WHERE id = ?", (number,)).fetchone()
        if run is None:
            raise ConfigError(f"no camera verification run {number}")
    return _run(conn, run)


def list_runs(conn: sqlite3.Connection, limit: int = 50) -> list[dict[str, Any]]:
    runs = []
    for run in conn.execute("SELECT * FROM camera_runs ORDER BY id DESC LIMIT ?", (limit,)):
        counts = {
            r["status"]: r["n"]
            for r in conn.execute(
                "SELECT status, count(*) AS n FROM camera_results WHERE run_id = ? GROUP BY status",
                (run["id"],),
            )
        }
        runs.append({"run_id": run["id"], "started_at": run["started_at"], "finished_at": run["finished_at"],
                     "exam_id": run["exam_id"], "selection": run["selection"], "status": run["status"],
                     "counts": counts})  # fmt: skip
    return runs


def latest_results(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """The latest stored result of every camera id (for ``cameras list``)."""
    folder = _site_folder(conn)
    rows = conn.execute(
        "SELECT r.*, c.finished_at FROM camera_results r JOIN camera_runs c ON c.id = r.run_id "
        "WHERE c.finished_at IS NOT NULL ORDER BY r.run_id"
    ).fetchall()
    latest = {}
    for row in rows:
        latest[row["camera_id"]] = {
            **_camera(row, folder),
            "run_id": row["run_id"],
            "finished_at": row["finished_at"],
        }
    return latest


def latest_verification(conn: sqlite3.Connection, exam_id: str | None = None) -> dict | None:
    """The most recent finished camera verification, or None if there is none.

    With ``exam_id``, the most recent one recorded for that exam (``cameras verify
    --exam``, or today's exam when it ran). Shape (a documented interface)::

        {"run_id": int, "started_at": ISO-8601 UTC, "finished_at": ISO-8601 UTC,
         "exam_id": str | None, "status": "ok" | "warning" | "fail",
         "cameras": [{"id", "zone", "room",
                      "source": str (password masked),
                      "status": "ok" | "warning" | "fail",
                      "findings": [{"code", "severity", "message", ...numbers}],
                      "snapshot": absolute path of the JPEG (str) or None,
                      "metrics": {"connect_ms", "first_frame_ms", "fps", "width", "height",
                                  "decoded_frames", "stalls", "brightness", "sharpness_ratio",
                                  "covered_pct", "shift_pct", "rotation_deg", ...}}]}

    Finding codes: unreachable, timeout, no_frames, stalled, low_fps, resolution_mismatch,
    black, uniform, overexposed, frozen, blurred, covered, moved, no_reference.
    """
    if exam_id is None:
        run = conn.execute(
            "SELECT * FROM camera_runs WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1"
        ).fetchone()
    else:
        run = conn.execute(
            "SELECT * FROM camera_runs WHERE finished_at IS NOT NULL AND exam_id = ? ORDER BY id DESC LIMIT 1",
            (exam_id,),
        ).fetchone()
    return None if run is None else _run(conn, run)
