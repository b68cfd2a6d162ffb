"""Checklist runs in the store (written by ``save_run``, read back as ``StoredRun``), and their
JUnit XML form.

``load_run(conn, ref)`` and ``list_runs(conn, *, exam_id=None, limit=50)`` are the public read
API (the CLI and the reports use them); ``StoredRun.to_json()`` is the documented JSON.
"""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from ppe_tech.checklist.runner import PASS, SKIP, ItemResult, RunResult
from ppe_tech.errors import ConfigError
from ppe_tech.fsutil import atomic_write_bytes
from ppe_tech.i18n import _
from ppe_tech.store import transaction
from ppe_tech.timeutil import iso

RUN_COLUMNS = (
    "checklist",
    "title_ru",
    "title_en",
    "exam_id",
    "started_at",
    "finished_at",
    "deadline",
    "late_minutes",
    "status",
    "operator",
    "disabled_items",
)


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
        "position": position,
        "item_id": r.item.id,
        "section_id": r.item.section_id,
        "section_ru": r.item.section_title.ru,
        "section_en": r.item.section_title.en,
        "title_ru": r.item.title.ru,
        "title_en": r.item.title.en,
        "severity": r.item.severity,
        "kind": r.item.kind,
        "status": r.status,
        "value": r.value,
        "expected": r.expected,
        "message": r.message,
        "duration_ms": r.duration_ms,
        "attempts": r.attempts,
        "answered_by": r.answered_by,
        "comment": r.comment,
        "finished_at": iso(r.finished_at),
    }


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
            f"INSERT INTO check_results (run_id, {', '.join(_RESULT_COLUMNS)})"
            f" VALUES (?, {', '.join('?' * len(_RESULT_COLUMNS))})",
            [(run_id, *(r.get(c) for c in _RESULT_COLUMNS)) for r in results],
        )
    return run_id


def save_run(conn: sqlite3.Connection, run: RunResult) -> int:
    """Store a finished run with all its results in one transaction; return its id."""
    rows = [result_row(position, r) for position, r in enumerate(run.results)]
    return save_rows(conn, run_row(run), rows)


@dataclass(kw_only=True)
class StoredResult:
    """One item's result as stored (a row of ``check_results``)."""

    position: int
    item_id: str
    section_id: str
    section_ru: str
    section_en: str
    title_ru: str
    title_en: str
    severity: str  # critical | warning | info
    kind: str  # probe type, or manual
    status: str  # pass | fail | timeout | error | skip | unanswered | interrupted
    value: str | None
    expected: str | None
    message: str | None
    duration_ms: int | None
    attempts: int
    answered_by: str | None
    comment: str | None
    finished_at: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(kw_only=True)
class StoredRun:
    """A checklist run as stored; ``results`` is None in a listing (``list_runs``)."""

    run_id: int
    checklist: str
    title_ru: str
    title_en: str
    exam_id: str | None
    started_at: str
    finished_at: str | None
    deadline: str | None
    late_minutes: int | None
    status: str  # passed | failed | interrupted
    operator: str
    disabled_items: list[str]
    counts: dict[str, int]
    results: list[StoredResult] | None = None

    @property
    def timeliness(self) -> str:
        if self.late_minutes is None:
            return "no deadline"
        return "on time" if self.late_minutes == 0 else f"late by {self.late_minutes} min"

    def to_json(self) -> dict[str, Any]:
        """The documented JSON of ``check list`` / ``check show`` (results only when loaded)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "results"}
        data["timeliness"] = self.timeliness
        if self.results is not None:
            data["results"] = [r.to_json() for r in self.results]
        return data


_RESULT_COLUMNS = tuple(f.name for f in fields(StoredResult))


def _runs(conn: sqlite3.Connection, where: str, params: tuple, limit: int) -> list[StoredRun]:
    rows = conn.execute(
        f"SELECT * FROM (SELECT * FROM check_runs {where} ORDER BY id DESC LIMIT ?) ORDER BY id",
        (*params, limit),
    ).fetchall()
    runs = []
    for row in rows:
        counts = conn.execute(
            "SELECT status, COUNT(*) FROM check_results WHERE run_id = ? GROUP BY status",
            (row["id"],),
        ).fetchall()
        data = {key: row[key] for key in row.keys() if key not in ("id", "disabled_items")}
        runs.append(
            StoredRun(
                run_id=row["id"],
                disabled_items=json.loads(row["disabled_items"]),
                counts={status: n for status, n in counts},
                **data,
            )
        )
    return runs


def list_runs(
    conn: sqlite3.Connection, *, exam_id: str | None = None, limit: int = 50
) -> list[StoredRun]:
    """The newest ``limit`` runs (of ``exam_id`` when given), oldest first, without results."""
    if exam_id:
        return _runs(conn, "WHERE exam_id = ?", (exam_id,), limit)
    return _runs(conn, "", (), limit)


def load_run(conn: sqlite3.Connection, run_ref: str | int) -> StoredRun:
    """A run with its results; ``run_ref`` is a run number or ``latest``."""
    if str(run_ref) == "latest":
        row = conn.execute("SELECT id FROM check_runs ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            raise ConfigError(_("no checklist runs yet (ppe-tech check run)"))
        run_ref = row[0]
    try:
        run_id = int(run_ref)
    except ValueError:
        raise ConfigError(
            _("run {ref}: expected a run number or 'latest'").format(ref=repr(run_ref))
        ) from None
    runs = _runs(conn, "WHERE id = ?", (run_id,), 1)
    if not runs:
        raise ConfigError(_("no checklist run {id} (see: ppe-tech check list)").format(id=run_id))
    run = runs[0]
    cursor = conn.execute(
        f"SELECT {', '.join(_RESULT_COLUMNS)} FROM check_results WHERE run_id = ? ORDER BY position",
        (run_id,),
    )
    run.results = [StoredResult(**dict(zip(_RESULT_COLUMNS, row, strict=True))) for row in cursor]
    return run


def write_junit(run: StoredRun, path: Path) -> None:
    """JUnit XML of a stored run, for CI dashboards and monitoring that read it."""
    results = run.results or []
    failing = [r for r in results if r.status not in (PASS, SKIP)]
    suite = ET.Element(
        "testsuite",
        name=run.checklist,
        tests=str(len(results)),
        failures=str(len(failing)),
        skipped=str(sum(r.status == SKIP for r in results)),
        timestamp=run.started_at,
        time=f"{sum(r.duration_ms or 0 for r in results) / 1000:.3f}",
    )
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{run.checklist}.{r.section_id}",
            name=f"{r.item_id}: {r.title_en}",
            time=f"{(r.duration_ms or 0) / 1000:.3f}",
        )
        if r.status == SKIP:
            ET.SubElement(case, "skipped", message=r.comment or "skipped")
        elif r.status != PASS:
            failure = ET.SubElement(
                case,
                "failure",
                type=f"{r.severity}/{r.status}",
                message=r.message or r.status,
            )
            failure.text = f"value: {r.value}\nexpected: {r.expected}"
    atomic_write_bytes(path, ET.tostring(suite, encoding="utf-8", xml_declaration=True))
