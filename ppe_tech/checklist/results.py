"""Checklist runs in the store, and their JUnit XML form.

``load_run`` and ``list_runs`` are the public read API (reports use them).
"""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from ppe_tech.checklist.runner import PASS, SKIP, ItemResult, RunResult
from ppe_tech.errors import ConfigError
from ppe_tech.fsutil import atomic_write_bytes
from ppe_tech.store import transaction
from ppe_tech.timeutil import iso

RUN_COLUMNS = ("checklist", "title_ru", "title_en", "exam_id", "started_at", "finished_at",
               "deadline", "late_minutes", "status", "operator", "disabled_items")  # fmt: skip
RESULT_COLUMNS = ("position", "item_id", "section_id", "section_ru", "section_en", "title_ru",
                  "title_en", "severity", "kind", "status", "value", "expected", "message",
                  "duration_ms", "attempts", "answered_by", "comment", "finished_at")  # fmt: skip


def run_row(run: RunResult) -> dict[str, Any]:
    """The ``check_runs`` row of a run (also the first line of its recovery file)."""
    return {
        "checklist": run.checklist.name,
        "title_ru": run.checklist.title.ru,
        "title_en": run.checklist.title.en,
        "exam_id": run.exam.id if run.exam else None,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "deadline": iso(run.deadline) if run.deadline else None,
        "late_minutes": run.late_minutes,
        "status": "interrupted" if run.interrupted else ("passed" if run.passed else "failed"),
        "operator": run.operator,
        "disabled_items": json.dumps(run.disabled),
    }


def result_row(position: int, r: ItemResult) -> dict[str, Any]:
    """The ``check_results`` row of one item's result (a line of the recovery file)."""
    return {
        "position": position, "item_id": r.item.id, "section_id": r.item.section_id,
        "section_ru": r.item.section_title.ru, "section_en": r.item.section_title.en,
        "title_ru": r.item.title.ru, "title_en": r.item.title.en, "severity": r.item.severity,
        "kind": r.item.kind, "status": r.status, "value": r.value, "expected": r.expected,
        "message": r.message, "duration_ms": r.duration_ms, "attempts": r.attempts,
        "answered_by": r.answered_by, "comment": r.comment, "finished_at": iso(r.finished_at),
    }  # fmt: skip


def save_rows(conn: sqlite3.Connection, run: dict[str, Any], results: list[dict[str, Any]]) -> int:
    """Store a run row and its result rows in one transaction; return the run's id."""
    with transaction(conn):
        cursor = conn.execute(
            f"INSERT INTO check_runs ({', '.join(RUN_COLUMNS)})"
            f" VALUES ({', '.join('?' * len(RUN_COLUMNS))})",
            tuple(run.get(c) for c in RUN_COLUMNS),
        )
        run_id = cursor.lastrowid
        conn.executemany(
            f"INSERT INTO check_results (run_id, {', '.join(RESULT_COLUMNS)})"
            f" VALUES (?, {', '.join('?' * len(RESULT_COLUMNS))})",
            [(run_id, *(r.get(c) for c in RESULT_COLUMNS)) for r in results],
        )
    return run_id


def save_run(conn: sqlite3.Connection, run: RunResult) -> int:
    """Store a finished run with all its results in one transaction; return its id."""
    rows = [result_row(position, r) for position, r in enumerate(run.results)]
    return save_rows(conn, run_row(run), rows)


def _timeliness(late_minutes: int | None) -> str:
    if late_minutes is None:
        return "no deadline"
    return "on time" if late_minutes == 0 else f"late by {late_minutes} min"


def list_runs(conn: sqlite3.Connection, exam_id: str | None = None) -> list[dict[str, Any]]:
    query = "SELECT * FROM check_runs" + (" WHERE exam_id = ?" if exam_id else "") + " ORDER BY id"
    rows = conn.execute(query, (exam_id,) if exam_id else ()).fetchall()
    runs = []
    for row in rows:
        run = dict(row)
        run["disabled_items"] = json.loads(run["disabled_items"])
        run["timeliness"] = _timeliness(run["late_minutes"])
        counts = conn.execute(
            "SELECT status, COUNT(*) FROM check_results WHERE run_id = ? GROUP BY status",
            (row["id"],),
        ).fetchall()
        run["counts"] = {status: n for status, n in counts}
        runs.append(run)
    return runs


def load_run(conn: sqlite3.Connection, run_ref: str | int) -> dict[str, Any]:
    """A run with its results; ``run_ref`` is an id or ``latest``."""
    if str(run_ref) == "latest":
        row = conn.execute("SELECT id FROM check_runs ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            raise ConfigError("no checklist runs yet (ppe-tech check run)")
        run_ref = row[0]
    try:
        run_id = int(run_ref)
    except ValueError:
        raise ConfigError(f"run {run_ref!r}: expected a run number or 'latest'") from None
    runs = [r for r in list_runs(conn) if r["id"] == run_id]
    if not runs:
        raise ConfigError(f"no checklist run {run_id} (see: ppe-tech check list)")
    run = runs[0]
    run["results"] = [
        dict(r)
        for r in conn.execute(
            "SELECT * FROM check_results WHERE run_id = ? ORDER BY position", (run_id,)
        )
    ]
    return run


def write_junit(run: dict[str, Any], path: Path) -> None:
    """JUnit XML of a stored run, for CI dashboards and monitoring that read it."""
    results = run["results"]
    failing = [r for r in results if r["status"] not in (PASS, SKIP)]
    suite = ET.Element(
        "testsuite",
        name=run["checklist"],
        tests=str(len(results)),
        failures=str(len(failing)),
        skipped=str(sum(r["status"] == SKIP for r in results)),
        timestamp=run["started_at"],
        time=f"{sum(r['duration_ms'] or 0 for r in results) / 1000:.3f}",
    )
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{run['checklist']}.{r['section_id']}",
            name=f"{r['item_id']}: {r['title_en']}",
            time=f"{(r['duration_ms'] or 0) / 1000:.3f}",
        )
        if r["status"] == SKIP:
            ET.SubElement(case, "skipped", message=r["comment"] or "skipped")
        elif r["status"] != PASS:
            failure = ET.SubElement(
                case,
                "failure",
                type=f"{r['severity']}/{r['status']}",
                message=r["message"] or r["status"],
            )
            failure.text = f"value: {r['value']}\nexpected: {r['expected']}"
    atomic_write_bytes(path, ET.tostring(suite, encoding="utf-8", xml_declaration=True))
