"""Rows of the region job: pushes and the objects each one found or sent."""

from __future__ import annotations

import sqlite3
from typing import Any

from ppe_tech.errors import StorageError
from ppe_tech.i18n import _
from ppe_tech.store import transaction
from ppe_tech.timeutil import iso, utc_now


def _write(conn: sqlite3.Connection, sql: str, params: tuple) -> int:
    try:
        with transaction(conn):
            return conn.execute(sql, params).lastrowid or 0
    except sqlite3.Error as exc:
        raise StorageError(
            _("cannot record the push in the store: {why}").format(why=exc)
        ) from None


def start_push(
    conn: sqlite3.Connection,
    *,
    exam_id: str,
    endpoint: str,
    bucket: str,
    base_key: str,
    objects: int,
    total_bytes: int,
    locked_until: str | None,
) -> int:
    """A new push row; an earlier one still 'running' was killed (kill -9): it says so now."""
    _write(
        conn,
        "UPDATE region_pushes SET status = 'interrupted', message = 'killed' "
        "WHERE exam_id = ? AND status = 'running'",
        (exam_id,),
    )
    return _write(
        conn,
        "INSERT INTO region_pushes (exam_id, started_at, status, endpoint, bucket, base_key, "
        "objects, total_bytes, locked_until) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?)",
        (exam_id, iso(utc_now()), endpoint, bucket, base_key, objects, total_bytes, locked_until),
    )


def record_object(
    conn: sqlite3.Connection,
    push_id: int,
    *,
    key: str,
    kind: str,
    size: int,
    sha256: str,
    version_id: str | None,
    outcome: str,
) -> None:
    _write(
        conn,
        "INSERT OR IGNORE INTO region_objects (push_id, key, kind, size, sha256, version_id, "
        "outcome, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (push_id, key, kind, size, sha256, version_id, outcome, iso(utc_now())),
    )


def finish_push(
    conn: sqlite3.Connection, push_id: int, *, status: str, sent_bytes: int, message: str = ""
) -> None:
    _write(
        conn,
        "UPDATE region_pushes SET status = ?, finished_at = ?, sent_bytes = ?, message = ? "
        "WHERE id = ?",
        (status, iso(utc_now()), sent_bytes, message, push_id),
    )


def list_pushes(conn: sqlite3.Connection, exam_id: str | None = None) -> list[dict[str, Any]]:
    query = (
        "SELECT * FROM region_pushes" + (" WHERE exam_id = ?" if exam_id else "") + " ORDER BY id"
    )
    return [dict(r) for r in conn.execute(query, (exam_id,) if exam_id else ())]


def handed_over(conn: sqlite3.Connection, exam_id: str) -> list[dict[str, Any]]:
    """Every object of the exam known to be in the storage (the newest record of each key)."""
    rows = conn.execute(
        "SELECT o.key, o.kind, o.size, o.sha256, o.version_id, o.outcome, o.at, p.bucket "
        "FROM region_objects o JOIN region_pushes p ON p.id = o.push_id "
        "WHERE p.exam_id = ? ORDER BY o.at",
        (exam_id,),
    ).fetchall()
    newest: dict[str, dict[str, Any]] = {}
    for row in rows:
        newest[row["key"]] = dict(row)
    return list(newest.values())
