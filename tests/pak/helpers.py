"""Helpers of the pak tests (`from tests.pak.helpers import ...`)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

ACTIONS = ["performance_check", "recording_start", "export", "angle_adjustment", "other"]


def fill(site, conn, n: int, day: datetime = datetime(2026, 5, 27, 8, 0)) -> list[dict]:
    """n ordinary entries through the public API, 20 minutes apart, the day before the exam."""
    from ppe_tech.pak.journal import record_action

    out = []
    for i in range(n):
        start = day + timedelta(minutes=20 * i)
        action = ACTIONS[i % len(ACTIONS)]
        out.append(
            record_action(
                site,
                conn,
                action=action,
                rooms=f"Auditorium {i % 3 + 1:04d}",
                start=start,
                end=start + timedelta(minutes=10),
                note=f"entry {i}" if action == "other" else "",
            )
        )
    return out


def raw(db_path: Path) -> sqlite3.Connection:
    """An attacker's connection: plain sqlite3, triggers dropped."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'pak_%'"
    ).fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    return conn


def edit(conn: sqlite3.Connection, seq: int, **fields) -> None:
    """Edit fields of an entry the only way the store allows: in its body (JSON), by raw SQL."""
    args = ", ".join(f"'$.{name}', ?" for name in fields)
    conn.execute(
        f"UPDATE pak_entries SET body = json_set(body, {args}) WHERE seq = ?",
        (*fields.values(), seq),
    )


def recompute_chain(conn: sqlite3.Connection) -> None:
    """What a careful forger does after an edit: recompute every hash from entry #1."""
    import hashlib

    from ppe_tech.pak import journal

    previous = journal.genesis_hash(conn.execute("SELECT log_id FROM pak_meta").fetchone()[0])
    for seq, body in conn.execute("SELECT seq, body FROM pak_entries ORDER BY seq").fetchall():
        previous = hashlib.sha256(previous + body.encode()).digest()
        conn.execute("UPDATE pak_entries SET hash = ? WHERE seq = ?", (previous, seq))
