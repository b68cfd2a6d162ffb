"""The PAK job's rows in the store, written and read here: entries and checkpoints.

The tables are ``schema.py``'s; this module holds the SQL that writes and reads them, so the
rest of the job works on values: ``journal`` builds entries and the journal's rows on top,
``checkpoint`` the signed texts, ``chain`` verifies (with its own chunked read, tuned for a
million entries). Only seq, the canonical body and the hash of an entry are written; SQLite
derives every other column from the body (stored generated columns, see schema.py).

Standard library only: other jobs (cameras, recordings) write PAK entries through ``journal``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from ppe_tech.errors import StorageError

# An entry's fields: the columns its hash covers, in canonical (sorted) order.
FIELDS = (
    "action",
    "end_at",
    "end_of",
    "kind",
    "note",
    "os_user",
    "performed_name",
    "performed_position",
    "performed_role",
    "recorded_at",
    "responsible_name",
    "responsible_position",
    "responsible_role",
    "rooms",
    "seq",
    "start_at",
)
_READ = ", ".join((*FIELDS, "hash"))  # what a reader needs (not the body the columns come from)


def log_id(conn: sqlite3.Connection) -> str:
    """The id of this store's log (pak_meta), bound into the chain's first hash."""
    row = conn.execute("SELECT log_id FROM pak_meta WHERE id = 1").fetchone()
    if row is None:
        raise StorageError("the PAK log has no log id (pak_meta is empty): the store was tampered")
    return row[0]


# -- entries ---------------------------------------------------------------------------------
def head(conn: sqlite3.Connection) -> tuple[int, bytes] | None:
    """(seq, hash) of the newest entry, None for an empty log."""
    row = conn.execute("SELECT seq, hash FROM pak_entries ORDER BY seq DESC LIMIT 1").fetchone()
    return None if row is None else (row[0], bytes(row[1]))


def insert_entries(conn: sqlite3.Connection, rows: Sequence[tuple[int, str, bytes]]) -> None:
    """Insert (seq, canonical body, hash) rows, inside the caller's transaction."""
    conn.executemany("INSERT INTO pak_entries (seq, body, hash) VALUES (?, ?, ?)", rows)


def entry(conn: sqlite3.Connection, seq: int) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {_READ} FROM pak_entries WHERE seq = ?", (seq,)).fetchone()
    return dict(row) if row is not None else None


def has_end(conn: sqlite3.Connection, start_seq: int) -> bool:
    return (
        conn.execute("SELECT 1 FROM pak_entries WHERE end_of = ?", (start_seq,)).fetchone()
        is not None
    )


def open_starts(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Start entries with no end entry yet, in order."""
    rows = conn.execute(
        f"SELECT {_READ} FROM pak_entries s WHERE kind = 'start' AND NOT EXISTS "
        "(SELECT 1 FROM pak_entries e WHERE e.end_of = s.seq) ORDER BY seq"
    ).fetchall()
    return [dict(row) for row in rows]


def select_entries(
    conn: sqlite3.Connection, *, where: Sequence[str] = (), params: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """Entries (not ends) matching every SQL condition of ``where``, in order."""
    conditions = " AND ".join(["kind != 'end'", *where])
    sql = f"SELECT {_READ} FROM pak_entries WHERE {conditions} ORDER BY seq"
    return [dict(row) for row in conn.execute(sql, list(params))]


def ends_by_start(conn: sqlite3.Connection) -> dict[int, dict[str, Any]]:
    """Every end entry, by the number of the start it closes."""
    rows = conn.execute(f"SELECT {_READ} FROM pak_entries WHERE kind = 'end' ORDER BY seq")
    return {row["end_of"]: dict(row) for row in rows}


# -- checkpoints -----------------------------------------------------------------------------
def insert_checkpoint(
    conn: sqlite3.Connection, *, created_at: str, size: int, head_hash: str, text: str
) -> None:
    """Append a signed checkpoint (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO pak_checkpoints (id, created_at, size, head_hash, text) "
        "SELECT COALESCE(MAX(id), 0) + 1, ?, ?, ?, ? FROM pak_checkpoints",
        (created_at, size, head_hash, text),
    )


def checkpoint_texts(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    """(id, text) of every stored checkpoint, oldest first."""
    return [tuple(row) for row in conn.execute("SELECT id, text FROM pak_checkpoints ORDER BY id")]


def latest_checkpoint_text(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT text FROM pak_checkpoints ORDER BY id DESC LIMIT 1").fetchone()
    return row[0] if row else None
