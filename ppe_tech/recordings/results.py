"""The recordings job's rows: archives and alerts, written and read here (other jobs read them too).

``ArchiveRecord`` is one archive as ``ppe-archive.json`` in the bag holds it;
``StoredArchive`` is that record as the store knows it (with its ``run_id`` and the bag's
folder); ``latest_archive`` is what the reports read.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field, fields
from datetime import timedelta
from typing import Any

from ppe_tech.store import transaction
from ppe_tech.timeutil import format_duration, parse_duration


@dataclass(frozen=True, kw_only=True)
class ArchiveRecord:
    """One archive: what was copied, from which window, with what gaps and undecodable files.

    - ``created_at`` (ISO 8601 UTC, when the bag was finished), ``window_start`` /
      ``window_end`` (ISO 8601 UTC: the exam window widened by the margin), ``margin``
      (e.g. ``"30m"``), ``zones`` and ``cameras`` (lists of str);
    - ``files``: one dict per archived segment, sorted by path: ``{"camera", "path" (inside
      the bag, e.g. "data/2026-05-28/07/corridor-1/00.10.mp4"), "size" (bytes), "sha256"
      (hex), "start" (ISO 8601 UTC, from the segment path), "duration" (seconds, None when
      the file is unreadable), "decodable" (bool: first frame and last keyframe decoded;
      None when the archive ran with ``--no-decode-check``)}``;
    - ``total_bytes``, ``file_count``; ``manifest_sha256``: SHA-256 (hex) of the bag's
      ``manifest-sha256.txt``, which fixes every file's checksum;
    - ``gaps``: ``[{"camera", "start", "end", "seconds"}]``, holes longer than the site's
      ``recordings.gap_tolerance`` inside the window (unreadable segments count as holes);
    - ``undecodable``: ``[{"camera", "path", "reason"}]``.
    """

    exam_id: str
    created_at: str
    window_start: str
    window_end: str
    margin: str
    zones: list[str]
    cameras: list[str]
    files: list[dict[str, Any]]
    total_bytes: int
    file_count: int
    manifest_sha256: str
    gaps: list[dict[str, Any]] = field(default_factory=list)
    undecodable: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ArchiveRecord:
        """The record of a ``ppe-archive.json``; KeyError/TypeError when it is not one."""
        return cls(**{f.name: data[f.name] for f in fields(cls)})


@dataclass(frozen=True, kw_only=True)
class StoredArchive:
    """An archive as the store knows it: its run id, the bag folder it was written to, its record."""

    run_id: int
    bag_path: str  # where it was written (it may have been moved since)
    record: ArchiveRecord

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, **self.record.to_json(), "bag_path": self.bag_path}

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> StoredArchive:
        record = ArchiveRecord(
            exam_id=row["exam_id"],
            created_at=row["created_at"],
            window_start=row["window_start"],
            window_end=row["window_end"],
            margin=format_duration(timedelta(seconds=row["margin_seconds"])),
            zones=json.loads(row["zones"]),
            cameras=json.loads(row["cameras"]),
            files=json.loads(row["files"]),
            total_bytes=row["total_bytes"],
            file_count=row["file_count"],
            manifest_sha256=row["manifest_sha256"],
            gaps=json.loads(row["gaps"]),
            undecodable=json.loads(row["undecodable"]),
        )
        return cls(run_id=row["id"], bag_path=row["bag_path"], record=record)


def store_archive(conn: sqlite3.Connection, record: ArchiveRecord, bag_path: str) -> StoredArchive:
    """Record a finished bag in the store; returns it with its run id."""
    with transaction(conn):
        cur = conn.execute(
            "INSERT INTO recordings_archives (exam_id, created_at, window_start, window_end, "
            "margin_seconds, zones, cameras, bag_path, total_bytes, file_count, manifest_sha256, "
            "files, gaps, undecodable) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.exam_id,
                record.created_at,
                record.window_start,
                record.window_end,
                parse_duration(record.margin).total_seconds(),
                json.dumps(record.zones),
                json.dumps(record.cameras),
                bag_path,
                record.total_bytes,
                record.file_count,
                record.manifest_sha256,
                json.dumps(record.files),
                json.dumps(record.gaps),
                json.dumps(record.undecodable),
            ),
        )
    return StoredArchive(run_id=int(cur.lastrowid or 0), bag_path=bag_path, record=record)


def find_archive(
    conn: sqlite3.Connection, *, bag_path: str, manifest_sha256: str
) -> StoredArchive | None:
    """The stored archive of this bag folder with this manifest, or None."""
    row = conn.execute(
        "SELECT * FROM recordings_archives WHERE bag_path = ? AND manifest_sha256 = ? "
        "ORDER BY id DESC LIMIT 1",
        (bag_path, manifest_sha256),
    ).fetchone()
    return StoredArchive.from_row(row) if row else None


def archives_of_bag(
    conn: sqlite3.Connection, *, bag_path: str, bag_name: str, manifest_hashes: list[str]
) -> list[StoredArchive]:
    """Every stored archive that may be this bag: written to this folder, under this name,
    or with one of these manifest hashes (a bag moved to another disk keeps its manifest)."""
    marks = ", ".join("?" for _ in manifest_hashes) or "NULL"
    rows = conn.execute(
        f"SELECT * FROM recordings_archives WHERE bag_path = ? OR manifest_sha256 IN ({marks}) "
        "OR bag_path LIKE ? ESCAPE '\\' ORDER BY id DESC",
        (bag_path, *manifest_hashes, "%/" + _like_escape(bag_name)),
    ).fetchall()
    return [StoredArchive.from_row(row) for row in rows]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def latest_archive(conn: sqlite3.Connection, exam_id: str | None = None) -> dict | None:
    """The newest archive (of ``exam_id`` when given) as ``StoredArchive.to_json()``, or None.

    Keys: ``run_id`` (int), ``exam_id`` and the rest of ``ArchiveRecord``, ``bag_path``.
    """
    if exam_id is None:
        row = conn.execute("SELECT * FROM recordings_archives ORDER BY id DESC LIMIT 1").fetchone()
    else:
        row = conn.execute(
            "SELECT * FROM recordings_archives WHERE exam_id = ? ORDER BY id DESC LIMIT 1",
            (exam_id,),
        ).fetchone()
    return StoredArchive.from_row(row).to_json() if row else None


def archive_of_run(conn: sqlite3.Connection, run_id: int) -> dict | None:
    """The archive of run ``run_id`` as ``StoredArchive.to_json()``, or None."""
    row = conn.execute("SELECT * FROM recordings_archives WHERE id = ?", (run_id,)).fetchone()
    return StoredArchive.from_row(row).to_json() if row else None


def list_archives(conn: sqlite3.Connection) -> list[dict]:
    """One line's worth per archive, oldest first: run id, exam, when, size, gap and undecodable counts."""
    rows = conn.execute(
        "SELECT id, exam_id, created_at, file_count, total_bytes, bag_path, gaps, undecodable "
        "FROM recordings_archives ORDER BY id"
    ).fetchall()
    return [
        {
            "run_id": r["id"],
            "exam_id": r["exam_id"],
            "created_at": r["created_at"],
            "file_count": r["file_count"],
            "total_bytes": r["total_bytes"],
            "bag_path": r["bag_path"],
            "gaps": len(json.loads(r["gaps"])),
            "undecodable": len(json.loads(r["undecodable"])),
        }
        for r in rows
    ]


def store_alert(conn: sqlite3.Connection, alert: dict[str, Any]) -> None:
    """One alert of ``recordings watch``: ``{"at", "kind", "camera", "message", "details"}``."""
    conn.execute(
        "INSERT INTO recordings_alerts (at, kind, camera, message, details) VALUES (?, ?, ?, ?, ?)",
        (
            alert["at"],
            alert["kind"],
            alert["camera"],
            alert["message"],
            json.dumps(alert["details"], default=str),
        ),
    )


def recent_alerts(conn: sqlite3.Connection, limit: int = 50) -> list[dict]:
    rows = conn.execute(
        "SELECT * FROM recordings_alerts ORDER BY id DESC LIMIT ?", (limit,)
    ).fetchall()
    return [
        {
            "id": r["id"],
            "at": r["at"],
            "kind": r["kind"],
            "camera": r["camera"],
            "message": r["message"],
            "details": json.loads(r["details"]),
        }
        for r in reversed(rows)
    ]
