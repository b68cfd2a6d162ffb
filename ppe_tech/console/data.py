"""The console's one adapter onto the other jobs: every read and write of their data is here.

Pages and forms call only these functions, which call each job's public API (the same
calls the CLI makes, with the same validation). When a job renames something, this
module is the one place to change.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ppe_tech.errors import ConfigError
from ppe_tech.i18n import _
from ppe_tech.site import Exam, Site
from ppe_tech.timeutil import utc_now

OFFLINE_CODES = ("unreachable", "timeout", "no_frames", "stalled")


# -- the exam of the day -------------------------------------------------------------------------
@dataclass(frozen=True)
class ExamClock:
    exam: Exam | None
    start: datetime | None
    deadline: datetime | None
    end: datetime | None

    def to_json(self) -> dict[str, Any]:
        exam = self.exam
        return {
            "exam": None if exam is None else {"id": exam.id, "subject": exam.subject},
            "start": self.start.isoformat() if self.start else None,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "end": self.end.isoformat() if self.end else None,
        }


def exam_clock(site: Site, now: datetime | None = None) -> ExamClock:
    """Today's exam in the point's time zone, its start, software-check deadline and end."""
    exam = site.select_exam(None, now or utc_now())
    if exam is None:
        return ExamClock(None, None, None, None)
    return ExamClock(exam, exam.start_at(site.tz), site.deadline(exam), exam.end_at(site.tz))


def window_exam(site: Site, exam_id: str | None, now: datetime | None = None) -> Exam | None:
    """The exam a recordings view shows: the chosen one, else the latest that has started."""
    if exam_id:
        return site.exam(exam_id)
    now = now or utc_now()
    started = [e for e in site.config.exams if e.start_at(site.tz) <= now]
    if started:
        return max(started, key=lambda e: e.start_at(site.tz))
    return site.select_exam(None, now)


# -- cameras -----------------------------------------------------------------------------------
def stored_camera_results(site: Site, conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """The newest stored verification of every camera (``cameras list``'s source)."""
    from ppe_tech.cameras.results import latest_results

    return latest_results(conn, folder=site.folder)


def verify_and_store(site: Site, conn: sqlite3.Connection, camera_ids: list[str], on_event):
    """``cameras verify`` for the chosen cameras (all when empty): stored, and in the PAK log."""
    from ppe_tech.cameras.verify import run_verification

    return run_verification(site, conn, camera_ids=camera_ids, on_event=on_event).to_json()


def light_check(site: Site, sample: float) -> list[dict[str, Any]]:
    """A short verification of every camera that stores nothing (the console's periodic look)."""
    from ppe_tech.cameras.verify import select_cameras, verify_cameras

    if not site.config.cameras:
        return []
    return verify_cameras(site, select_cameras(site), sample=sample)


def is_offline(findings: list[dict[str, Any]]) -> bool:
    return any(f.get("code") in OFFLINE_CODES for f in findings)


# -- recordings --------------------------------------------------------------------------------
def recordings_view(site: Site, conn: sqlite3.Connection, exam: Exam | None, now=None) -> dict:
    """``recordings status`` for ``exam`` plus each camera's segments inside its window."""
    from ppe_tech.recordings.index import index_site
    from ppe_tech.recordings.status import recording_status

    now = now or utc_now()
    index = index_site(site, conn, now=now)
    status = recording_status(site, conn, exam.id if exam else None, now=now, index=index)
    window = status["exam"]["window"] if status["exam"] else None
    for row in status["cameras"]:
        row["spans"] = []
        if window:
            start, end = (datetime.fromisoformat(w) for w in window)
            row["spans"] = _spans(index.of(row["camera"]), start, end)
    return status


def _spans(segments, start: datetime, end: datetime) -> list[tuple[float, float]]:
    """Readable segments inside [start, end) as (left %, width %), merged where they touch."""
    total = (end - start).total_seconds()
    if total <= 0:
        return []
    spans: list[list[float]] = []
    for seg in segments:
        if not seg.ok or seg.end <= start or seg.start >= end:
            continue
        left = max(0.0, (seg.start - start).total_seconds()) / total * 100
        right = min(total, (seg.end - start).total_seconds()) / total * 100
        if spans and left - spans[-1][1] < 0.05:
            spans[-1][1] = max(spans[-1][1], right)
        else:
            spans.append([left, right])
    return [(round(a, 3), round(b - a, 3)) for a, b in spans]


def recent_recording_alerts(conn: sqlite3.Connection, limit: int = 20) -> list[dict]:
    from ppe_tech.recordings.results import recent_alerts

    return recent_alerts(conn, limit)


def make_watcher(site: Site, conn: sqlite3.Connection, emit):
    """The ``recordings watch`` monitor, with the site's settings; the caller runs it."""
    from ppe_tech.recordings.watch import Watcher

    return Watcher(site, conn, emit=emit)


# -- the PAK access log ------------------------------------------------------------------------
def pak_actions() -> dict[str, tuple[str, str]]:
    from ppe_tech.pak.journal import ACTIONS

    return ACTIONS


def journal(conn: sqlite3.Connection) -> list[dict]:
    from ppe_tech.pak.journal import list_entries

    return list_entries(conn)


def open_actions(conn: sqlite3.Connection) -> list[dict]:
    from ppe_tech.pak.journal import open_starts

    return open_starts(conn)


def _when(site: Site, text: str, day: str):
    """``pak add``'s reading of times: empty is now; HH:MM on ``day`` (default today)."""
    from ppe_tech.pak.journal import parse_when

    base = None
    if day.strip():
        try:
            base = datetime.fromisoformat(day.strip()).date()
        except ValueError:
            raise ConfigError(
                _("date {day!r} is not a date (use YYYY-MM-DD)").format(day=day)
            ) from None
    if not text.strip():
        moment = datetime.now(site.tz).replace(second=0, microsecond=0)
        return (
            moment
            if base is None
            else moment.replace(year=base.year, month=base.month, day=base.day)
        )
    return parse_when(site, text, base)


def pak_add(site: Site, conn: sqlite3.Connection, form: dict[str, str], *, kind: str) -> dict:
    """``pak add`` (kind "action") or ``pak start`` (kind "start") from the form's fields."""
    from ppe_tech.pak.journal import record_action, start_action

    common = {
        "action": form.get("action", ""),
        "rooms": form.get("rooms", ""),
        "start": _when(site, form.get("start", ""), form.get("date", "")),
        "performed_by": form.get("performed_by", "").strip() or "technician",
        "responsible": form.get("responsible", "").strip() or "head",
        "note": form.get("note", ""),
    }
    if kind == "start":
        return start_action(site, conn, **common)
    end = form.get("end", "").strip()
    return record_action(
        site, conn, **common, end=_when(site, end, form.get("date", "")) if end else None
    )


def pak_end(site: Site, conn: sqlite3.Connection, form: dict[str, str]) -> dict:
    """``pak end START_NO``."""
    from ppe_tech.pak.journal import end_action

    text = form.get("start_seq", "").strip()
    if not text.isdigit():
        raise ConfigError(_("choose the open action to end (its number)"))
    by = form.get("performed_by", "").strip() or None
    return end_action(
        site,
        conn,
        start_seq=int(text),
        end=_when(site, form.get("at", ""), ""),
        performed_by=by,
        note=form.get("note", ""),
    )


def pak_audit(site: Site, conn: sqlite3.Connection) -> list[dict]:
    from ppe_tech.pak.audit import audit

    return [finding.to_json() for finding in audit(site, conn)]


def pak_verify(site: Site, conn: sqlite3.Connection) -> dict:
    from ppe_tech.pak.chain import verify_log

    return verify_log(site, conn).to_json()


def pak_latest_checkpoint(conn: sqlite3.Connection) -> dict | None:
    from ppe_tech.pak.checkpoint import latest_checkpoint

    cp = latest_checkpoint(conn)
    return cp.to_json() if cp else None


def pak_make_checkpoint(site: Site, conn: sqlite3.Connection) -> dict:
    from ppe_tech.pak.chain import create_checkpoint

    return create_checkpoint(site, conn).to_json()


# -- checklists --------------------------------------------------------------------------------
def checklist_names(site: Site) -> list[str]:
    """Checklists a run can be started with: the site's and the shipped ones, by name."""
    from ppe_tech.resources import lookup_path

    names: set[str] = set()
    for folder in lookup_path(site.folder, "checklists"):
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.yaml"))
    return sorted(names)


def load_checklist(site: Site, name: str):
    """A checklist by name only (a path from a form is refused)."""
    from ppe_tech.checklist.model import load_checklist as load

    if name not in checklist_names(site):
        raise ConfigError(
            _("unknown checklist {name!r} (known: {known})").format(
                name=name, known=", ".join(checklist_names(site))
            )
        )
    return load(name, site)


def answer(status_word: str, comment: str, by: str):
    """A manual answer as ``check run --answers`` stores it (yes / no / skip)."""
    from ppe_tech.checklist.answers import answer_status
    from ppe_tech.checklist.runner import Answer

    status = answer_status(status_word)
    if status is None:
        raise ConfigError(_("{word} is not one of yes, no, skip").format(word=repr(status_word)))
    return Answer(status, comment.strip() or None, by)


def run_checklist(checklist, site: Site, exam: Exam | None, *, ask, on_result):
    from ppe_tech.checklist.runner import run_checklist as run

    return run(checklist, site, exam, ask=ask, on_result=on_result)


def save_checklist_run(conn: sqlite3.Connection, result) -> int:
    from ppe_tech.checklist.results import save_run

    return save_run(conn, result)


def checklist_runs(conn: sqlite3.Connection) -> list[dict]:
    from ppe_tech.checklist.results import list_runs

    return [run.to_json() for run in list_runs(conn)]


def checklist_run(conn: sqlite3.Connection, ref: str | int) -> dict:
    from ppe_tech.checklist.results import load_run

    return load_run(conn, ref).to_json()


# -- reports -----------------------------------------------------------------------------------
REPORT_KINDS = ("readiness", "archive", "access-log")


def reports(conn: sqlite3.Connection) -> list[dict]:
    from ppe_tech.reports.core import list_reports

    return list_reports(conn)


def report_file(site: Site, conn: sqlite3.Connection, number: str) -> Path:
    """The PDF of a registered report (by its number only); never a path from input."""
    from ppe_tech.reports.core import show_report

    if number.isdigit() or "/" in number or "\\" in number:
        raise ConfigError(_("no report {number!r}").format(number=number))
    return Path(show_report(site, conn, number)["file"])


def report_verify(site: Site, conn: sqlite3.Connection, number: str) -> dict:
    from ppe_tech.reports.verify import verify_report

    return verify_report(site, conn, report_file(site, conn, number)).to_json()


def report_make(site: Site, conn: sqlite3.Connection, form: dict[str, str]) -> dict:
    from ppe_tech.reports.core import make_report

    kind = form.get("kind", "")
    if kind not in REPORT_KINDS:
        raise ConfigError(
            _("unknown report kind {kind!r} (known: {known})").format(
                kind=kind, known=", ".join(REPORT_KINDS)
            )
        )
    exam_id = form.get("exam", "").strip() or None
    if exam_id:
        site.exam(exam_id)  # unknown exam: one clear line before any work
    lang = form.get("lang") if form.get("lang") in ("ru", "en") else None
    return make_report(site, conn, kind, exam_id, lang=lang)


# -- rooms and stations ---------------------------------------------------------------------------
def readiness_exam(site: Site, now: datetime | None = None) -> Exam | None:
    """The exam readiness is computed for: the exam ahead, else the latest that has started."""
    return exam_clock(site, now).exam or window_exam(site, None, now)


def rooms_readiness(site: Site, conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Each room with ``state`` ready / not_ready / not_checked and its reason in one line."""
    from ppe_tech.stations.results import room_readiness

    exam = readiness_exam(site)
    if exam is None:
        return []
    findings = {cam: _codes(result) for cam, result in stored_camera_results(site, conn).items()}
    out = []
    for room in room_readiness(conn, site, exam):
        row = room.to_json()
        untouched = all(s["state"] == "not-checked" for s in row["stations"]) and all(
            c["status"] == "not-verified" for c in row["cameras"]
        )
        row["state"] = "ready" if room.ready else ("not_checked" if untouched else "not_ready")
        row["reason"] = ", ".join(_with_findings(reason, findings) for reason in room.reasons)
        row["label"] = room.name or room.label
        out.append(row)
    return out


def _codes(result: dict[str, Any]) -> str:
    return ", ".join(f["code"] for f in result.get("findings") or [] if f.get("severity") == "fail")


def _with_findings(reason: str, findings: dict[str, str]) -> str:
    """``camera aud-0002-a fail`` -> ``camera aud-0002-a fail (covered)``."""
    words = reason.split()
    if len(words) == 3 and words[0] == "camera" and findings.get(words[1]):
        return f"{reason} ({findings[words[1]]})"
    return reason


def station_questions(site: Site, station_id: str):
    """The station and its checklist items, every one asked by hand (``station confirm``)."""
    from ppe_tech.stations.run import station_checklist

    station = site.station(station_id)
    return station, station_checklist(site, station).items


def confirm_station(
    site: Site, conn: sqlite3.Connection, station_id: str, form: dict[str, str]
) -> int:
    """``station confirm --answers``: the page's answers, checked and stored as by hand."""
    from ppe_tech.checklist.answers import check_known
    from ppe_tech.stations.results import save_station_run
    from ppe_tech.stations.run import (
        StationRequest,
        confirm_station,
        operator_name,
        station_checklist,
    )

    exam = readiness_exam(site)
    if exam is None:
        raise ConfigError(_("no exam today in ppe.yaml: nothing to confirm a station for"))
    station = site.station(station_id)
    by = f"{operator_name(site)}, console"
    answers = {}
    for key, word in form.items():
        if key.startswith("answer-") and word.strip():
            item_id = key.removeprefix("answer-")
            answers[item_id] = answer(word, form.get(f"comment-{item_id}", ""), by)
    check_known(answers, station_checklist(site, station), "answers", by_hand=True)
    result = confirm_station(
        site, StationRequest(station=station, exam=exam, answers=answers), by=by
    )
    return save_station_run(conn, result)


def receive_station_result(site: Site, conn: sqlite3.Connection, data: bytes, source: str) -> dict:
    """A result file posted by ``station run --send``: verified and stored as ``station import``
    does (already stored: its run; refused: VerificationFailed with the reason)."""
    import hashlib
    from dataclasses import replace

    from ppe_tech.stations.resultfile import verify_result_file
    from ppe_tech.stations.results import save_station_run, stored_run_id

    existing = stored_run_id(conn, hashlib.sha256(data).hexdigest())
    if existing is not None:
        return {"status": "already", "run_id": existing}
    exam = exam_clock(site).exam
    result = verify_result_file(site, data, exam_id=exam.id if exam else None)
    run_id = save_station_run(conn, replace(result, source=source))
    return {
        "status": "imported",
        "run_id": run_id,
        "station": result.station_id,
        "passed": result.passed,
        "failed_items": list(result.failed_items),
    }


def age_seconds(moment: str | None, now: datetime | None = None) -> float | None:
    if not moment:
        return None
    then = datetime.fromisoformat(moment)
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return max(0.0, ((now or utc_now()) - then) / timedelta(seconds=1))
