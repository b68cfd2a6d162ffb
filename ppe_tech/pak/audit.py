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


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


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
    windows = [(e, e.start_at(tz), e.end_at(tz)) for e in site.config.exams]
    staff = {(m.name, m.position) for m in site.config.staff.values()}

    parsed = []
    for row in rows:
        start = datetime.fromisoformat(row["start_at"])
        end = datetime.fromisoformat(row["end_at"]) if row["end_at"] else None
        tokens = room_tokens(row["rooms"])
        parsed.append((row, start, end, tokens))

    # recording switched off, and started again, per exam day
    starts_by_day: dict[Any, list[tuple[datetime, list[str]]]] = defaultdict(list)
    for row, start, _end, tokens in parsed:
        if row["action"] == "recording_start":
            starts_by_day[start.date()].append((start, tokens))

    for row, start, end, tokens in parsed:
        seq = row["no"]
        stop = end or start
        exam_room = _is_exam_room(tokens, known_rooms)
        for exam, exam_start, exam_end in windows:
            running = (
                start < exam_end and stop >= exam_start if end else exam_start <= start < exam_end
            )
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
                and start.astimezone(tz).date() == exam.date
                and start < exam_end
            ):
                restarted = start < exam_start and any(
                    start < again <= exam_start and (set(again_rooms) & set(tokens) or not tokens)
                    for again, again_rooms in starts_by_day[start.date()]
                )
                if not restarted:
                    findings.append(_finding(
                        "high", "recording-off-before-exam-end",
                        f"#{seq} recording switched off ({row['rooms']}) at {start:%H:%M}, before "
                        f"exam {exam.id} ended at {exam_end:%H:%M}"
                        + ("" if start >= exam_start else " and not started again before it began"),
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
        stated = [(row["recorded_at"], seq, start if was_start else stop)]
        if row["end_seq"] is not None:
            stated.append((row["end_recorded_at"], row["end_seq"], stop))
        for recorded_text, which, target in stated:
            recorded = _utc(recorded_text)
            delay = recorded - target
            if delay > late_after:
                findings.append(_finding(
                    "medium", "late-entry",
                    f"#{which} recorded {_days(delay)} after the time it states "
                    f"({target:%Y-%m-%d %H:%M}; recorded {recorded.astimezone(tz):%Y-%m-%d %H:%M})",
                    which, row,
                ))  # fmt: skip
            elif -delay > EARLY_BY:
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
    for row, start, end, tokens in parsed:
        if end is None or end <= start:
            continue
        for token in set(tokens):
            by_room[token].append((start, end, row))
    found = []
    seen: set[tuple[int, int]] = set()
    for items in by_room.values():
        items.sort(key=lambda item: (item[0], item[2]["no"]))
        latest = None  # the item reaching furthest so far
        for item in items:
            if latest is not None and item[0] < latest[1]:
                a, b = latest[2], item[2]
                pair = (min(a["no"], b["no"]), max(a["no"], b["no"]))
                if pair not in seen:
                    seen.add(pair)
                    found.append(_finding(
                        "medium", "overlapping-actions",
                        f"#{b['no']} {action_label(b['action'], 'en').lower()} "
                        f"({_hm(item[0], item[1])}) overlaps #{a['no']} "
                        f"{action_label(a['action'], 'en').lower()} ({_hm(latest[0], latest[1])}) "
                        f"in {b['rooms']}",
                        b["no"], b, other=a["no"],
                    ))  # fmt: skip
            if latest is None or item[1] > latest[1]:
                latest = item
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
