"""Audit rules over the PAK log: what an auditor asks of the journal, answered as findings.

Each finding is a dict ``{"severity", "code", "message", "seq", ...}`` (``seq``
is the journal number of the entry, None for a log-wide finding; extra keys:
``date``, ``rooms``, ``action``, ``exam``). Severities: ``high`` (``pak audit``
exits 1), ``medium``, ``low``.

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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ppe_tech.pak.journal import action_label, list_entries, open_starts

if TYPE_CHECKING:
    from ppe_tech.site import Site

SEVERITIES = ("high", "medium", "low")
CARD_AND_ANGLE = ("angle_adjustment", "card_removal", "card_installation")
LATE_AFTER = timedelta(hours=24)
EARLY_BY = timedelta(minutes=10)
OPEN_GRACE = timedelta(hours=12)
_SPLIT = re.compile(r"[,;]")
_AUDITORIUM_WORDS = ("auditor", "аудитор")


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


def audit(
    site: Site,
    conn: sqlite3.Connection,
    *,
    check_chain: bool = True,
    late_after: timedelta = LATE_AFTER,
    now: datetime | None = None,
) -> list[dict]:
    """Run every rule; return the findings, most severe first, then by journal number.

    ``check_chain``: also verify the hash chain and stored checkpoints (finding
    ``log-tampered``). ``late_after``: how long after the stated time an entry may
    be recorded before it is ``late-entry``.
    """
    from ppe_tech.timeutil import utc_now

    now = now or utc_now()
    findings: list[dict[str, Any]] = []
    if check_chain:
        from ppe_tech.pak.chain import verify_log

        result = verify_log(site, conn)
        if not result.ok:
            for problem in result.problems:
                findings.append(_finding("high", "log-tampered", problem, result.first_bad))

    rows = list_entries(conn)
    known_rooms = exam_rooms(site)
    tz = site.tz
    windows_by_day: dict[str, list] = defaultdict(list)  # "YYYY-MM-DD" -> exams running then
    for exam in site.config.exams:
        exam_start, exam_end = exam.start_at(tz), exam.end_at(tz)
        day = exam_start.date()
        while day <= exam_end.date():
            windows_by_day[day.isoformat()].append(
                (exam, exam_start, exam_end, exam_start.timestamp(), exam_end.timestamp())
            )
            day += timedelta(days=1)
    staff = {(m.name, m.position) for m in site.config.staff.values()}
    late_s, early_s = late_after.total_seconds(), EARLY_BY.total_seconds()

    parsed = []
    rooms_seen: dict[str, tuple[list[str], bool]] = {}  # rooms text -> (tokens, exam room?)
    fromiso = datetime.fromisoformat
    for row in rows:
        start = fromiso(row["start_at"])
        end = fromiso(row["end_at"]) if row["end_at"] else None
        info = rooms_seen.get(row["rooms"])
        if info is None:
            tokens = room_tokens(row["rooms"])
            info = rooms_seen[row["rooms"]] = (tokens, _is_exam_room(tokens, known_rooms))
        s_ts = start.timestamp()
        e_ts = end.timestamp() if end else None
        parsed.append((row, start, end, s_ts, e_ts, info[0], info[1]))

    # recording started, per day (a recording switched off and started again before the exam)
    starts_by_day: dict[str, list[tuple[float, list[str]]]] = defaultdict(list)
    for row, _start, _end, s_ts, _e_ts, tokens, _exam_room in parsed:
        if row["action"] == "recording_start":
            starts_by_day[row["start_at"][:10]].append((s_ts, tokens))

    for row, start, end, s_ts, e_ts, tokens, exam_room in parsed:
        seq = row["no"]
        stop, stop_ts = (end, e_ts) if end else (start, s_ts)
        day_keys = {row["start_at"][:10], (row["end_at"] or row["start_at"])[:10]}
        windows = [w for day in sorted(day_keys) for w in windows_by_day.get(day, ())]
        for exam, exam_start, exam_end, x_start, x_end in dict.fromkeys(windows):
            running = s_ts < x_end and stop_ts >= x_start if end else x_start <= s_ts < x_end
            if row["action"] in CARD_AND_ANGLE and running:
                severity = "high" if exam_room else "medium"
                where = "an exam room" if exam_room else "a room"
                findings.append(_finding(
                    severity, "camera-action-during-exam",
                    f"#{seq} {action_label(row['action'], 'en').lower()} in {where} "
                    f"({row['rooms']}) at {_hm(start, end)} during exam {exam.id} "
                    f"({exam_start:%H:%M}-{exam_end:%H:%M})",
                    seq, row, exam=exam.id,
                ))  # fmt: skip
            if (
                row["action"] == "recording_off"
                and row["start_at"][:10] == exam.date.isoformat()
                and s_ts < x_end
            ):
                restarted = s_ts < x_start and any(
                    s_ts < again <= x_start and (set(again_rooms) & set(tokens) or not tokens)
                    for again, again_rooms in starts_by_day[row["start_at"][:10]]
                )
                if not restarted:
                    findings.append(_finding(
                        "high", "recording-off-before-exam-end",
                        f"#{seq} recording switched off ({row['rooms']}) at {start:%H:%M}, before "
                        f"exam {exam.id} ended at {exam_end:%H:%M}"
                        + ("" if s_ts >= x_start else " and not started again before it began"),
                        seq, row, exam=exam.id,
                    ))  # fmt: skip

        # people
        for column in ("performed_by", "responsible", "ended_by"):
            value = row[column]
            if not value:
                continue
            name, _, position = value.partition(", ")
            if (name, position) not in staff:
                what = {"performed_by": "performed by", "responsible": "responsible",
                        "ended_by": "ended by"}[column]  # fmt: skip
                findings.append(_finding(
                    "medium", "unknown-person",
                    f"#{seq} {what} {value!r} is not in the staff list of ppe.yaml", seq, row,
                ))  # fmt: skip

        # recorded late, or in advance: each entry against the time it states
        was_start = row["open"] or row["end_seq"] is not None
        stated = [(row["recorded_at"], seq, start, s_ts) if was_start
                  else (row["recorded_at"], seq, stop, stop_ts)]  # fmt: skip
        if row["end_seq"] is not None:
            stated.append((row["end_recorded_at"], row["end_seq"], stop, stop_ts))
        for recorded_text, which, target, target_ts in stated:
            recorded = fromiso(recorded_text)
            delay = recorded.timestamp() - target_ts
            if delay > late_s:
                findings.append(_finding(
                    "medium", "late-entry",
                    f"#{which} recorded {_days(recorded - target)} after the time it states "
                    f"({target:%Y-%m-%d %H:%M}; recorded {recorded.astimezone(tz):%Y-%m-%d %H:%M})",
                    which, row,
                ))  # fmt: skip
            elif -delay > early_s:
                findings.append(_finding(
                    "medium", "entry-before-action",
                    f"#{which} recorded at {recorded.astimezone(tz):%Y-%m-%d %H:%M}, before the time "
                    f"it states ({target:%Y-%m-%d %H:%M})",
                    which, row,
                ))  # fmt: skip

    # open starts
    for entry in open_starts(conn):
        started = datetime.fromisoformat(entry["start_at"])
        age = now - started
        severity = "low" if age < OPEN_GRACE else "medium"
        findings.append(_finding(
            severity, "start-without-end",
            f"#{entry['seq']} {action_label(entry['action'], 'en').lower()} ({entry['rooms']}) "
            f"started {started:%Y-%m-%d %H:%M} and has no end entry",
            entry["seq"], {"date": started.date().isoformat(), "rooms": entry["rooms"],
                           "action": entry["action"]},
        ))  # fmt: skip

    findings.extend(_overlaps(parsed))
    order = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: (order[f["severity"]], f["seq"] or 0, f["code"]))
    return findings


def _overlaps(parsed) -> list[dict]:
    """Actions with a duration that overlap in the same room (a sweep per room)."""
    by_room: dict[str, list] = defaultdict(list)
    for row, _start, _end, s_ts, e_ts, tokens, _exam_room in parsed:
        if e_ts is None or e_ts <= s_ts:
            continue
        for token in set(tokens):
            by_room[token].append((s_ts, e_ts, row["no"], row))
    found = []
    seen: set[tuple[int, int]] = set()
    for items in by_room.values():
        items.sort(key=lambda item: (item[0], item[2]))
        latest = None  # the item reaching furthest so far
        latest_end = float("-inf")
        for item in items:
            if item[0] < latest_end:
                a, b = latest[3], item[3]
                pair = (min(a["no"], b["no"]), max(a["no"], b["no"]))
                if pair not in seen:
                    seen.add(pair)
                    found.append(_finding(
                        "medium", "overlapping-actions",
                        f"#{b['no']} {action_label(b['action'], 'en').lower()} "
                        f"({b['date']} {b['start']}-{b['end']}) overlaps #{a['no']} "
                        f"{action_label(a['action'], 'en').lower()} "
                        f"({a['date']} {a['start']}-{a['end']}) in {b['rooms']}",
                        b["no"], b, other=a["no"],
                    ))  # fmt: skip
            if item[1] > latest_end:
                latest, latest_end = item, item[1]
    return found


def _hm(start: datetime, end: datetime | None) -> str:
    text = f"{start:%Y-%m-%d %H:%M}"
    return f"{text}-{end:%H:%M}" if end else text


def _days(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.0f} h"


def _finding(severity: str, code: str, message: str, seq: int | None, row: dict | None = None,
             **extra: Any) -> dict[str, Any]:  # fmt: skip
    finding: dict[str, Any] = {"severity": severity, "code": code, "message": message, "seq": seq}
    if row:
        finding.update(date=row.get("date"), rooms=row.get("rooms"), action=row.get("action"))
    finding.update(extra)
    return finding


def worst(findings: list[dict]) -> str | None:
    for severity in SEVERITIES:
        if any(f["severity"] == severity for f in findings):
            return severity
    return None
