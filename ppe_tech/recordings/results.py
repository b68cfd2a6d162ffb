"""Read API of the recordings job for other jobs (the reports helper reads archives from here)."""

from __future__ import annotations

import json
import sqlite3


def latest_archive(conn: sqlite3.Connection, exam_id: str | None = None) -> dict | None:
    """The newest archive (of ``exam_id`` when given) as plain data, or None when there is none.

    Keys:

    - ``archive_id`` (int), ``exam_id`` (str), ``created_at`` (ISO 8601 UTC, when the bag was
      finished), ``window_start`` / ``window_end`` (ISO 8601 UTC: the exam window widened by
      the margin), ``margin`` (e.g. ``"30m"``), ``zones`` and ``cameras`` (lists of str);
    - ``files``: one dict per archived segment, sorted by path:
      ``{"camera", "path" (inside the bag, e.g. "data/2026-05-28/07/corridor-1/00.10.mp4"),
      "size" (bytes), "sha256" (hex), "start" (ISO 8601 UTC, from the segment path),
      "duration" (seconds, None when the file is unreadable), "decodable" (bool: first and
      last frame decoded; None when the archive ran with ``--no-decode-check``)}``;
    - ``total_bytes``, ``file_count``; ``manifest_sha256``: SHA-256 (hex) of the bag's
      ``manifest-sha256.txt``, which fixes every file's checksum;
    - ``bag_path``: the bag folder when it was written (it may have been moved since);
    - ``gaps``: ``[{"camera", "start", "end", "seconds"}]``, holes longer than the site's
      ``recordings.gap_tolerance`` inside the window (unreadable segments count as holes);
    - ``undecodable``: ``[{"camera", "path", "reason"}]``.
    """
    if exam_id is None:
        row = conn.execute("SELECT * FROM recordings_archives ORDER BY id DESC LIMIT 1").fetchone()
    else:
        row = conn.execute(
            "SELECT * FROM recordings_archives WHERE exam_id = ? ORDER BY id DESC LIMIT 1",
            (exam_id,),
        ).fetchone()
    return archive_row(row) if row else None


def archive_row(row: sqlite3.Row) -> dict:
    from datetime import timedelta

    from ppe_tech.timeutil import format_duration

    return {
        "archive_id": row["id"],
        "exam_id": row["exam_id"],
        "created_at": row["created_at"],
        "window_start": row["window_start"],
        "window_end": row["window_end"],
        "margin": format_duration(timedelta(seconds=row["margin_seconds"])),
        "zones": json.loads(row["zones"]),
        "cameras": json.loads(row["cameras"]),
        "files": json.loads(row["files"]),
        "total_bytes": row["total_bytes"],
        "file_count": row["file_count"],
        "manifest_sha256": row["manifest_sha256"],
        "bag_path": row["bag_path"],
        "gaps": json.loads(row["gaps"]),
        "undecodable": json.loads(row["undecodable"]),
    }


def list_archives(conn: sqlite3.Connection) -> list[dict]:
    rows = conn.execute(
        "SELECT id, exam_id, created_at, file_count, total_bytes, bag_path, gaps, undecodable "
        "FROM recordings_archives ORDER BY id"
    ).fetchall()
    return [
        {"archive_id": r["id"], "exam_id": r["exam_id"], "created_at": r["created_at"],
         "file_count": r["file_count"], "total_bytes": r["total_bytes"], "bag_path": r["bag_path"],
         "gaps": len(json.loads(r["gaps"])), "undecodable": len(json.loads(r["undecodable"]))}
        for r in rows
    ]  # fmt: skip


def recent_alerts(conn: sqlite3.Connection, limit: int = 50) -> list[dict]:
    rows = conn.execute(
        "SELECT * FROM recordings_alerts ORDER BY id DESC LIMIT ?", (limit,)
    ).fetchall()
    return [
        {"id": r["id"], "at": r["at"], "kind": r["kind"], "camera": r["camera"], "message": r["message"],
         "details": json.loads(r["details"])}
        for r in reversed(rows)
    ]  # fmt: skip
