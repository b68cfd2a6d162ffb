"""Audit rules over the PAK log: what an auditor asks of the journal, answered as findings.

Each finding is a ``Finding`` (JSON: ``{"severity", "code", "message", "seq", "date",
"rooms", "action"}`` plus ``exam`` or ``other`` where they apply; ``seq`` is the journal
number of the entry, None for a log-wide finding). Severities: ``high`` (``pak audit``
exits 1), ``medium``, ``low``. Each rule is one function over the journal's rows parsed
once (``Row``, ``Journal``); ``RULES`` lists them in the order of the table below.

| code | severity | finding |
|---|---|---|
| log-tampered | high | the hash chain or a stored checkpoint does not verify (see chain.py) |
| camera-action-during-exam | high | angle adjustment, memory card removal or installation in an exam room (auditorium) while an exam is running; medium in other rooms |
| recording-off-before-exam-end | high | recording switched off on an exam day before the exam ended and not started again before the exam began |
| start-without-end | medium | an action was started and never ended (low while it is younger than 12 h) |
| overlapping-actions | medium | two actions with durations overlap in the same room |
| unknown-person | medium | performed by / responsible is not a member of the staff list in ppe.yaml |
| late-entry | medium | recorded more than ``late_after`` (24 h) after the time it states |
| entry-before-action | medium | recorded more than 10 minutes before the time it states (written in advance) |

Exam rooms: a room of the entry (rooms split at commas and semicolons) that is
the ``room`` or ``id`` of a camera whose zone is ``auditorium``, or whose name
contains "auditor" / "аудитор". Exam windows: each exam of ppe.yaml from its
start for its duration, in the point's time zone.
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ppe_tech.i18n import _, current_language
from ppe_tech.pak.chain import verify_log
from ppe_tech.pak.journal import action_label, list_entries, open_starts
from ppe_tech.timeutil import human_duration, utc_now

if TYPE_CHECKING:
    from ppe_tech.site import Exam, Site

SEVERITIES = ("high", "medium", "low")
CARD_AND_ANGLE = ("angle_adjustment", "card_removal", "card_installation")
LATE_AFTER = timedelta(hours=24)
EARLY_BY = timedelta(minutes=10)
OPEN_GRACE = timedelta(hours=12)
_SPLIT = re.compile(r"[,;]")
_AUDITORIUM_WORDS = ("auditor", "аудитор")


@dataclass(kw_only=True)
class Finding:
    severity: str  # high | medium | low
    code: str
    message: str
    seq: int | None  # the journal number; None for the whole log
    date: str | None = None
    rooms: str | None = None
    action: str | None = None
    exam: str | None = None  # the exam it happened during
    other: int | None = None  # the entry it overlaps

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "seq": self.seq,
        }
        if self.date is not None or self.rooms is not None or self.action is not None:
            data.update(date=self.date, rooms=self.rooms, action=self.action)
        if self.exam is not None:
            data["exam"] = self.exam
        if self.other is not None:
            data["other"] = self.other
        return data


@dataclass(frozen=True, slots=True)
class Window:
    """An exam from its start for its duration, in the point's time zone (and as timestamps)."""

    exam: Exam
    start: datetime
    end: datetime
    start_ts: float
    end_ts: float


@dataclass(slots=True)
class Row:
    """One journal row (``list_entries``) with its times and rooms parsed once for the rules.

    A million rows are audited in one go: times are kept as timestamps too, and ``slots``
    keeps each row small.
    """

    entry: dict[str, Any]
    seq: int
    action: str
    day: str  # YYYY-MM-DD of the stated start
    start: datetime
    end: datetime | None
    start_ts: float
    stop_ts: float  # the end, or the start of a point in time
    rooms: list[str]  # room tokens, case-folded
    exam_room: bool
    windows: tuple[Window, ...]  # the exams on the days it touches

    @property
    def stop(self) -> datetime:
        return self.end or self.start

    def finding(self, severity: str, code: str, message: str, **extra: Any) -> Finding:
        """A finding about this row (``seq=`` names another entry of it, such as its end)."""
        entry = self.entry
        return Finding(
            **{
                "severity": severity,
                "code": code,
                "message": message,
                "seq": self.seq,
                "date": entry["date"],
                "rooms": entry["rooms"],
                "action": entry["action"],
                **extra,
            }
        )


@dataclass
class Journal:
    """What the rules read: the site, the parsed rows, and the audit's settings."""

    site: Site
    conn: sqlite3.Connection
    rows: list[Row]
    late_after: timedelta
    now: datetime

    @cached_property
    def delays(self) -> list[tuple[Row, int, datetime, datetime, float]]:
        """(row, entry number, stated time, recorded time, seconds recorded after it) of every
        entry: what the late and early rules both read, parsed once."""
        fromiso = datetime.fromisoformat
        found = []
        for row in self.rows:
            for recorded_text, which, target, target_ts in _stated(row):
                recorded = fromiso(recorded_text)
                found.append((row, which, target, recorded, recorded.timestamp() - target_ts))
        return found


def room_tokens(rooms: str) -> list[str]:
    return [token.strip().casefold() for token in _SPLIT.split(rooms) if token.strip()]


def exam_rooms(site: Site) -> set[str]:
    rooms: set[str] = set()
    for camera in site.config.cameras:
        if camera.zone == "auditorium":
            rooms.add(camera.id.casefold())
            if camera.room:
                rooms.add(camera.room.strip().casefold())
    return rooms


def _is_exam_room(tokens: list[str], known: set[str]) -> bool:
    return any(t in known or any(w in t for w in _AUDITORIUM_WORDS) for t in tokens)


def _windows_by_day(site: Site) -> dict[str, tuple[Window, ...]]:
    """Each day (YYYY-MM-DD) -> the exams running on it."""
    by_day: dict[str, list[Window]] = defaultdict(list)
    for exam in site.config.exams:
        start, end = exam.start_at(site.tz), exam.end_at(site.tz)
        window = Window(exam, start, end, start.timestamp(), end.timestamp())
        day = window.start.date()
        while day <= window.end.date():
            by_day[day.isoformat()].append(window)
            day += timedelta(days=1)
    return {day: tuple(windows) for day, windows in by_day.items()}


def parse_rows(site: Site, entries: list[dict[str, Any]]) -> list[Row]:
    """The journal rows with times, room tokens and exam windows worked out once."""
    known, by_day = exam_rooms(site), _windows_by_day(site)
    rooms_seen: dict[str, tuple[list[str], bool]] = {}  # rooms text -> (tokens, exam room?)
    fromiso = datetime.fromisoformat
    rows = []
    for entry in entries:
        info = rooms_seen.get(entry["rooms"])
        if info is None:
            tokens = room_tokens(entry["rooms"])
            info = rooms_seen[entry["rooms"]] = (tokens, _is_exam_room(tokens, known))
        day, end_day = entry["start_at"][:10], (entry["end_at"] or entry["start_at"])[:10]
        windows = by_day.get(day, ())
        if end_day != day and end_day in by_day:
            windows = tuple(dict.fromkeys((*windows, *by_day[end_day])))
        start = fromiso(entry["start_at"])
        end = fromiso(entry["end_at"]) if entry["end_at"] else None
        start_ts = start.timestamp()
        stop_ts = end.timestamp() if end else start_ts
        # positional: a million of these are made (the fields in Row's order)
        rows.append(
            Row(
                entry,
                entry["no"],
                entry["action"],
                day,
                start,
                end,
                start_ts,
                stop_ts,
                info[0],
                info[1],
                windows,
            )
        )
    return rows


def _hm(start: datetime, end: datetime | None) -> str:
    text = f"{start:%Y-%m-%d %H:%M}"
    return f"{text}-{end:%H:%M}" if end else text


def _label(action: str) -> str:
    return action_label(action, current_language()).lower()


# -- the rules, one function each: Journal -> findings ----------------------------------------
def log_tampered(journal: Journal) -> list[Finding]:
    """The hash chain or a stored checkpoint does not verify."""
    result = verify_log(journal.site, journal.conn)
    if result.ok:
        return []
    return [
        Finding(severity="high", code="log-tampered", message=problem, seq=result.first_bad)
        for problem in result.problems
    ]


def camera_action_during_exam(journal: Journal) -> list[Finding]:
    """Angle adjustment or a memory card taken out or put in while an exam runs."""
    found = []
    for row in journal.rows:
        if row.action not in CARD_AND_ANGLE:
            continue
        start_ts, stop_ts = row.start_ts, row.stop_ts
        for w in row.windows:
            if row.end is not None:
                running = start_ts < w.end_ts and stop_ts >= w.start_ts
            else:
                running = w.start_ts <= start_ts < w.end_ts
            if not running:
                continue
            message = (
                _(
                    "#{n} {action} in an exam room ({rooms}) at {when} during exam {exam} "
                    "({start}-{end})"
                )
                if row.exam_room
                else _(
                    "#{n} {action} in a room ({rooms}) at {when} during exam {exam} ({start}-{end})"
                )
            )
            found.append(
                row.finding(
                    "high" if row.exam_room else "medium",
                    "camera-action-during-exam",
                    message.format(
                        n=row.seq,
                        action=_label(row.action),
                        rooms=row.entry["rooms"],
                        when=_hm(row.start, row.end),
                        exam=w.exam.id,
                        start=f"{w.start:%H:%M}",
                        end=f"{w.end:%H:%M}",
                    ),
                    exam=w.exam.id,
                )
            )
    return found


def recording_off_before_exam_end(journal: Journal) -> list[Finding]:
    """Recording switched off on an exam day before the exam ended (and not started again)."""
    starts_by_day: dict[str, list[tuple[float, list[str]]]] = defaultdict(list)
    for row in journal.rows:
        if row.action == "recording_start":
            starts_by_day[row.day].append((row.start_ts, row.rooms))
    found = []
    for row in journal.rows:
        if row.action != "recording_off":
            continue
        off = row.start_ts
        for w in row.windows:
            if row.day != w.exam.date.isoformat() or off >= w.end_ts:
                continue
            restarted = off < w.start_ts and any(
                off < again <= w.start_ts and (set(again_rooms) & set(row.rooms) or not row.rooms)
                for again, again_rooms in starts_by_day[row.day]
            )
            if restarted:
                continue
            message = (
                _(
                    "#{n} recording switched off ({rooms}) at {at}, before exam {exam} ended at {end}"
                )
                if off >= w.start_ts
                else _(
                    "#{n} recording switched off ({rooms}) at {at}, before exam {exam} ended at "
                    "{end} and not started again before it began"
                )
            )
            found.append(
                row.finding(
                    "high",
                    "recording-off-before-exam-end",
                    message.format(
                        n=row.seq,
                        rooms=row.entry["rooms"],
                        at=f"{row.start:%H:%M}",
                        exam=w.exam.id,
                        end=f"{w.end:%H:%M}",
                    ),
                    exam=w.exam.id,
                )
            )
    return found


def start_without_end(journal: Journal) -> list[Finding]:
    """An action started and never ended (low while it is younger than OPEN_GRACE)."""
    found = []
    for entry in open_starts(journal.conn):
        started = datetime.fromisoformat(entry["start_at"])
        severity = "low" if journal.now - started < OPEN_GRACE else "medium"
        found.append(
            Finding(
                severity=severity,
                code="start-without-end",
                message=_("#{n} {action} ({rooms}) started {at} and has no end entry").format(
                    n=entry["seq"],
                    action=_label(entry["action"]),
                    rooms=entry["rooms"],
                    at=f"{started:%Y-%m-%d %H:%M}",
                ),
                seq=entry["seq"],
                date=started.date().isoformat(),
                rooms=entry["rooms"],
                action=entry["action"],
            )
        )
    return found


def overlapping_actions(journal: Journal) -> list[Finding]:
    """Actions with a duration that overlap in the same room (a sweep per room)."""
    by_room: dict[str, list[tuple[float, float, Row]]] = defaultdict(list)
    for row in journal.rows:
        if row.end is None or row.stop_ts <= row.start_ts:
            continue
        for token in set(row.rooms):
            by_room[token].append((row.start_ts, row.stop_ts, row))
    found = []
    seen: set[tuple[int, int]] = set()
    for items in by_room.values():
        items.sort(key=lambda item: (item[0], item[2].seq))
        latest: Row | None = None  # the row reaching furthest so far
        latest_end = float("-inf")
        for start_ts, end_ts, row in items:
            if latest is not None and start_ts < latest_end:
                pair = (min(latest.seq, row.seq), max(latest.seq, row.seq))
                if pair not in seen:
                    seen.add(pair)
                    found.append(_overlap(latest.entry, row))
            if end_ts > latest_end:
                latest, latest_end = row, end_ts
    return found


def _overlap(a: dict[str, Any], row: Row) -> Finding:
    b = row.entry
    return row.finding(
        "medium",
        "overlapping-actions",
        _(
            "#{n} {action} ({when}) overlaps #{other} {other_action} ({other_when}) in {rooms}"
        ).format(
            n=b["no"],
            action=_label(b["action"]),
            when=f"{b['date']} {b['start']}-{b['end']}",
            other=a["no"],
            other_action=_label(a["action"]),
            other_when=f"{a['date']} {a['start']}-{a['end']}",
            rooms=b["rooms"],
        ),
        other=a["no"],
    )


def _people() -> dict[str, str]:
    return {
        "performed_by": _("performed by"),
        "responsible": _("responsible"),
        "ended_by": _("ended by"),
    }


def unknown_person(journal: Journal) -> list[Finding]:
    """Performed by / responsible / ended by is not a member of the staff list."""
    staff = {(m.name, m.position) for m in journal.site.config.staff.values()}
    found, people = [], _people()
    for row in journal.rows:
        for column, what in people.items():
            value = row.entry[column]
            if not value:
                continue
            name, _comma, position = value.partition(", ")
            if (name, position) not in staff:
                found.append(
                    row.finding(
                        "medium",
                        "unknown-person",
                        _("#{n} {who} {value} is not in the staff list of ppe.yaml").format(
                            n=row.seq, who=what, value=repr(value)
                        ),
                    )
                )
    return found


def _stated(row: Row) -> list[tuple[str, int, datetime, float]]:
    """(recorded at, entry number, the time it states and its timestamp) of each entry behind
    a row: one entry states its end (or its moment); a start and its end state their own."""
    entry = row.entry
    if entry["end_seq"] is None and not entry["open"]:
        return [(entry["recorded_at"], row.seq, row.stop, row.stop_ts)]
    stated = [(entry["recorded_at"], row.seq, row.start, row.start_ts)]
    if entry["end_seq"] is not None:
        stated.append((entry["end_recorded_at"], entry["end_seq"], row.stop, row.stop_ts))
    return stated


def late_entry(journal: Journal) -> list[Finding]:
    """Recorded more than ``late_after`` after the time it states."""
    tz, late = journal.site.tz, journal.late_after.total_seconds()
    found = []
    for row, which, target, recorded, delay in journal.delays:
        if delay > late:
            message = _(
                "#{n} recorded {delay} after the time it states ({stated}; recorded {recorded})"
            ).format(
                n=which,
                delay=human_duration(recorded - target),
                stated=f"{target:%Y-%m-%d %H:%M}",
                recorded=f"{recorded.astimezone(tz):%Y-%m-%d %H:%M}",
            )
            found.append(row.finding("medium", "late-entry", message, seq=which))
    return found


def entry_before_action(journal: Journal) -> list[Finding]:
    """Recorded more than EARLY_BY before the time it states (written in advance)."""
    tz, early = journal.site.tz, EARLY_BY.total_seconds()
    found = []
    for row, which, target, recorded, delay in journal.delays:
        if -delay > early:
            message = _("#{n} recorded at {recorded}, before the time it states ({stated})").format(
                n=which,
                recorded=f"{recorded.astimezone(tz):%Y-%m-%d %H:%M}",
                stated=f"{target:%Y-%m-%d %H:%M}",
            )
            found.append(row.finding("medium", "entry-before-action", message, seq=which))
    return found


Rule = Callable[[Journal], list[Finding]]
RULES: tuple[Rule, ...] = (
    camera_action_during_exam,
    recording_off_before_exam_end,
    start_without_end,
    overlapping_actions,
    unknown_person,
    late_entry,
    entry_before_action,
)


def audit(
    site: Site,
    conn: sqlite3.Connection,
    *,
    check_chain: bool = True,
    late_after: timedelta = LATE_AFTER,
    now: datetime | None = None,
) -> list[Finding]:
    """Run every rule; return the findings, most severe first, then by journal number.

    ``check_chain``: also verify the hash chain and stored checkpoints (finding
    ``log-tampered``). ``late_after``: how long after the stated time an entry may
    be recorded before it is ``late-entry``.
    """
    rows = parse_rows(site, list_entries(conn))
    journal = Journal(site, conn, rows, late_after, now or utc_now())
    rules = ((log_tampered,) if check_chain else ()) + RULES
    findings = [finding for rule in rules for finding in rule(journal)]
    order = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: (order[f.severity], f.seq or 0, f.code))
    return findings


def worst(findings: list[Finding]) -> str | None:
    for severity in SEVERITIES:
        if any(f.severity == severity for f in findings):
            return severity
    return None
