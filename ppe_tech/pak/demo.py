"""Demo step of the pak job: a realistic day's access log, a signed checkpoint, verify, audit.

Yesterday's exam (``demo.past_exam_id``): morning performance check of every
camera, recording started in the staff room and the auditoriums, a memory card
removed in an auditorium *during* the exam (the suspicious entry the audit
finds), recording switched off after the exam, the corridor and entrance
recordings copied. This morning: a performance check and an angle adjustment
written as a start and an end. Entries are simulated as written live: each one's
recorded time is the time it states (the batch append path of the journal).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ppe_tech.demo import step_line
from ppe_tech.fsutil import atomic_write_text
from ppe_tech.i18n import _
from ppe_tech.pak.audit import audit
from ppe_tech.pak.chain import create_checkpoint, verify_log
from ppe_tech.pak.journal import append_entries, end_action, make_entry, start_action, utc_stamp


def _rooms(site, zones: tuple[str, ...]) -> str:
    names = [c.room or c.id for c in site.config.cameras if c.zone in zones]
    return ", ".join(dict.fromkeys(names)) or "Staff room"


def run(demo: Any) -> str:
    site = demo.site
    everywhere = _rooms(site, ("auditorium", "staff-room", "corridor", "entrance"))
    auditoriums = [c.room or c.id for c in site.config.cameras if c.zone == "auditorium"]
    _log_past_exam(demo, everywhere, auditoriums)
    _log_this_morning(demo, everywhere, auditoriums)
    return _checkpoint_and_audit(demo)


def _log_past_exam(demo: Any, everywhere: str, auditoriums: list[str]) -> None:
    """Yesterday's day of the journal, with one suspicious card removal during the exam."""
    site, conn = demo.site, demo.db
    tz = site.tz
    past = site.exam(demo.past_exam_id)
    begin, finish = past.start_at(tz), past.end_at(tz)
    day = begin.replace(hour=0, minute=0)
    suspicious_room = auditoriums[-1] if auditoriums else "Auditorium 0001"

    def at(hours: float, minutes: int = 0) -> datetime:
        return day + timedelta(hours=hours, minutes=minutes)

    plan = [
        # (action, rooms, start, end, performed_by, note)
        ("performance_check", everywhere, at(7, 30), at(7, 55), "technician", ""),
        ("recording_start", _rooms(site, ("staff-room",)), at(8, 0), None, "technician", ""),
        (
            "recording_start",
            _rooms(site, ("auditorium", "corridor", "entrance")),
            at(9, 0),
            None,
            "technician",
            "",
        ),
        (
            "card_removal",
            suspicious_room,
            begin + timedelta(minutes=65),
            begin + timedelta(minutes=70),
            "technician",
            "карта памяти извлечена: ошибка записи",
        ),
        ("recording_off", everywhere, finish + timedelta(minutes=20), None, "technician", ""),
        (
            "export",
            _rooms(site, ("corridor", "entrance")),
            finish + timedelta(minutes=30),
            finish + timedelta(minutes=75),
            "technician",
            "копия записей коридоров и входа",
        ),
    ]
    entries = []
    for action, rooms, start, end, by, note in plan:
        entry = make_entry(
            site,
            kind="action",
            action=action,
            rooms=rooms,
            start=start,
            end=end,
            performed_by=by,
            responsible="head",
            note=note,
            recorded_at=utc_stamp((end or start) + timedelta(minutes=2)),
        )
        entries.append(entry)
    append_entries(conn, entries)


def _log_this_morning(demo: Any, everywhere: str, auditoriums: list[str]) -> None:
    """This morning: a performance check and an angle adjustment that spans time."""
    site, conn = demo.site, demo.db
    tz = site.tz
    now = datetime.now(tz).replace(second=0, microsecond=0)
    check = make_entry(
        site,
        kind="action",
        action="performance_check",
        rooms=everywhere,
        start=now - timedelta(minutes=40),
        end=now - timedelta(minutes=25),
        performed_by="technician",
        responsible="head",
        note="",
        recorded_at=utc_stamp(now - timedelta(minutes=24)),
    )
    append_entries(conn, [check])
    started = start_action(
        site,
        conn,
        action="angle_adjustment",
        rooms=auditoriums[0] if auditoriums else everywhere,
        start=now - timedelta(minutes=20),
        note="камера сдвинута при уборке",
    )
    end_action(site, conn, start_seq=started["seq"], end=now - timedelta(minutes=15))


def _checkpoint_and_audit(demo: Any) -> str:
    site, conn = demo.site, demo.db
    cp = create_checkpoint(site, conn)
    stamp = cp.created_at.strftime("%Y%m%dT%H%M%SZ")
    path = site.file_in("pak", f"checkpoint-{stamp}.txt")

    atomic_write_text(path, cp.text)
    result = verify_log(site, conn, checkpoints=[(str(path), cp.text)])
    if not result.ok:
        raise RuntimeError(f"demo pak log does not verify: {result.message}")
    findings = audit(site, conn, check_chain=False)
    high = [f for f in findings if f.severity == "high"]
    where = path.relative_to(site.folder)
    demo.log(
        step_line("pak", _("checkpoint {file}, {result}").format(file=where, result=result.message))
    )
    summary = _(
        "{entries} entries, checkpoint {file} signed, verify OK, audit: {high} high of {n} findings"
    ).format(entries=cp.size, file=where, high=len(high), n=len(findings))
    return summary + ("; " + _("e.g. {finding}").format(finding=high[0].message) if high else "")
