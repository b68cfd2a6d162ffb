"""A camera verification is a "performance check" entry of the video access (PAK) log."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from ppe_tech.site import Site

PAK_ACTION = "performance_check"


def summary(run: dict[str, Any]) -> str:
    """``5 cameras: 4 ok, 1 fail (aud-0002-a: covered)``."""
    cams = run["cameras"]
    counts = [
        f"{n} {s}" for s in ("ok", "warning", "fail") if (n := sum(c["status"] == s for c in cams))
    ]
    bad = [
        f"{c['id']}: {', '.join(f['code'] for f in c['findings'])}"
        for c in cams
        if c["status"] == "fail"
    ]
    text = f"{len(cams)} camera{'s' if len(cams) != 1 else ''}: {', '.join(counts)}"
    return text + (f" ({'; '.join(bad)})" if bad else "")


def record_verification(site: Site, conn: sqlite3.Connection, run: dict[str, Any]) -> dict:
    """Append the PAK entry of a stored verification ``run``; return the entry."""
    from ppe_tech.pak.journal import record_action

    rooms = list(dict.fromkeys(c["room"] or c["id"] for c in run["cameras"]))
    return record_action(
        site,
        conn,
        action=PAK_ACTION,
        rooms=", ".join(rooms),
        start=datetime.fromisoformat(run["started_at"]),
        end=datetime.fromisoformat(run["finished_at"]),
        note=site.redact(f"ppe-tech cameras verify, run {run['run_id']}: {summary(run)}"),
    )
