"""The embedded store: one SQLite file per site, WAL, named migrations.

Each job keeps its schema next to its code in a ``schema`` module that lists
``MIGRATIONS = [(name, sql), ...]``. Migrations are applied in order and
recorded by name in ``_migrations`` (the pattern of llm's migrations.py), so a
store made by an older ppe-tech is brought up to date on first open.
"""

from __future__ import annotations

import importlib
import sqlite3
from pathlib import Path

from ppe_tech.errors import NoSpaceError, StorageError
from ppe_tech.i18n import _

# Order matters only between modules whose tables reference each other.
SCHEMA_MODULES = (
    "ppe_tech.checklist.schema",
    "ppe_tech.cameras.schema",
    "ppe_tech.recordings.schema",
    "ppe_tech.pak.schema",
    "ppe_tech.reports.schema",
    "ppe_tech.region.schema",
    "ppe_tech.stations.schema",
)


def all_migrations() -> list[tuple[str, str]]:
    migrations: list[tuple[str, str]] = []
    for module_name in SCHEMA_MODULES:
        migrations.extend(importlib.import_module(module_name).MIGRATIONS)
    return migrations


def connect(path: Path, *, timeout: float = 30.0) -> sqlite3.Connection:
    """Open (creating if needed) the store at ``path`` and bring its schema up to date.

    The connection is in autocommit mode (``isolation_level=None``): code that
    needs a transaction says ``BEGIN IMMEDIATE`` itself, or uses ``transaction``.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.text_factory = lenient_text
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise store_error(exc, path) from None
    return conn


def store_error(exc: sqlite3.Error, path: Path | None = None) -> StorageError:
    """An SQLite failure as the user needs to read it, with its exit code (3, or 4 when full).

    ``path`` is given while opening, and then the message starts with it.
    """
    text = str(exc)
    lowered = text.lower()

    def headed(problem: str) -> str:
        if path:
            return _("{path}: cannot open the store: {problem}").format(path=path, problem=problem)
        return _("the store (ppe.db): {problem}").format(problem=problem)

    if "locked" in lowered or "busy" in lowered:
        return StorageError(
            headed(
                _(
                    "it is locked by another ppe-tech or program: try again "
                    "when that has finished ({why})"
                ).format(why=text)
            )
        )
    if "full" in lowered:
        return NoSpaceError(headed(_("no space left on the device ({why})").format(why=text)))
    if "malformed" in lowered or "not a database" in lowered or "corrupt" in lowered:
        damaged = _(
            "the store is damaged ({why}): restore ppe.db from a backup, or move it away to "
            "start a new one (signed reports and checkpoint files outside it stay valid)"
        ).format(why=text)
        return StorageError(headed(damaged) if path else damaged)
    return StorageError(headed(text))


def lenient_text(data: bytes) -> str:
    """TEXT as str even when someone wrote bytes that are not UTF-8 into the file.

    ppe-tech writes only UTF-8, so a bad byte is damage or tampering: reading must still
    work (so ``pak verify`` can name the entry: it hashes the raw bytes), showing U+FFFD.
    """
    return data.decode("utf-8", errors="replace")


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply the migrations not yet recorded; return their names."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    applied = []
    for name, sql in all_migrations():
        if name in done:
            continue
        with transaction(conn):
            # re-check inside the write lock: another process may have just applied it
            if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                continue
            for statement in split_sql(sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, datetime('now'))", (name,)
            )
        applied.append(name)
    return applied


def split_sql(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit our transaction)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements


class transaction:  # noqa: N801 - used like a function: `with transaction(conn):`
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on any exception."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
