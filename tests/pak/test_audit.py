"""Audit rules: each finding fires on the case it is for, and stays quiet on the ordinary day."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from ppe_tech.pak.audit import audit
from ppe_tech.pak.journal import append_entries, make_entry, utc_stamp
from tests.pak.helpers import edit, raw

DAY = datetime(2026, 5, 28)  # minimal_config's exam: 2026-05-28 10:00, 3h55m (ends 13:55)


@pytest.fixture
def site(site_dir, key_files, monkeypatch):
    """A site whose exam rooms are known by their cameras ("Room 12" has no 'auditorium' in it)."""
    import shutil

    from ppe_tech.site import load_site
    from tests.conftest import minimal_config, write_site

    cameras = [
        {"id": "aud-12", "zone": "auditorium", "room": "Room 12", "source": "x.mp4"},
        {"id": "hall", "zone": "corridor", "room": "Hall", "source": "y.mp4"},
    ]
    write_site(site_dir, minimal_config(cameras=cameras))
    shutil.copytree(key_files, site_dir / "keys")
    monkeypatch.setenv("PPE_KEY_PASSPHRASE", "pak-test-passphrase")
    return load_site(site_dir)


def add(
    site,
    conn,
    action,
    rooms,
    start,
    end=None,
    *,
    recorded=None,
    by="technician",
    kind="action",
    note="",
    end_of=None,
):
    at = lambda hm: DAY.replace(hour=int(hm[:2]), minute=int(hm[3:]))  # noqa: E731
    start_dt, end_dt = at(start), at(end) if end else None
    stated = (end_dt or start_dt).replace(tzinfo=site.tz)
    entry = make_entry(
        site,
        kind=kind,
        action=action,
        rooms=rooms,
        start=start_dt,
        end=end_dt,
        performed_by=by,
        responsible="head",
        note=note,
        end_of=end_of,
        recorded_at=utc_stamp(recorded or stated + timedelta(minutes=1)),
    )
    return append_entries(conn, [entry])[0]


def ordinary_day(site, conn):
    add(site, conn, "performance_check", "Room 12, Hall, Staff room", "07:30", "07:55")
    add(site, conn, "recording_off", "Room 12", "08:00")  # off and on again before the exam: fine
    add(site, conn, "recording_start", "Room 12, Hall", "08:30")
    add(site, conn, "angle_adjustment", "Room 12", "08:40", "08:45")  # before the exam: fine
    add(site, conn, "recording_off", "Room 12, Hall", "14:10")  # after the exam: fine
    add(site, conn, "export", "Hall", "14:20", "15:00")
    add(site, conn, "export", "Hall", "15:00", "15:30")  # touches the previous one, no overlap


def codes(findings):
    return sorted((f.code, f.severity, f.seq) for f in findings)


NOW = datetime(2026, 5, 28, 20, 0).astimezone()


def test_an_ordinary_day_has_no_findings(site, conn, cli):
    ordinary_day(site, conn)
    assert audit(site, conn, now=NOW) == []
    result = cli("pak", "audit", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == {"findings": [], "worst": None}


@pytest.mark.parametrize(
    "action, rooms, start, end, expected",
    [
        ("card_removal", "Room 12", "11:00", None, ("camera-action-during-exam", "high")),
        ("card_installation", "aud-12", "13:50", "14:05", ("camera-action-during-exam", "high")),
        (
            "angle_adjustment",
            "Auditorium 0003",
            "09:55",
            "10:05",
            ("camera-action-during-exam", "high"),
        ),
        ("angle_adjustment", "Hall", "12:00", None, ("camera-action-during-exam", "medium")),
        ("recording_off", "Room 12", "12:30", None, ("recording-off-before-exam-end", "high")),
        ("recording_off", "Staff room", "09:45", None, ("recording-off-before-exam-end", "high")),
    ],
)
def test_actions_during_the_exam(site, conn, action, rooms, start, end, expected):
    ordinary_day(site, conn)
    entry = add(site, conn, action, rooms, start, end)
    findings = audit(site, conn, now=NOW)
    assert codes(findings) == [(*expected, entry["seq"])]
    assert findings[0].exam == "2026-05-28-math"


def test_card_removal_on_another_day_is_fine(site, conn):
    add(site, conn, "card_removal", "Room 12", "11:00")
    start = DAY + timedelta(days=1, hours=11)
    entry = make_entry(
        site,
        kind="action",
        action="card_removal",
        rooms="Room 12",
        start=start,
        end=None,
        performed_by="technician",
        responsible="head",
        note="",
        recorded_at=utc_stamp(start.replace(tzinfo=site.tz)),
    )
    append_entries(conn, [entry])
    assert [f.seq for f in audit(site, conn, now=NOW)] == [1]


def test_start_without_end(site, conn):
    add(site, conn, "card_removal", "Staff room", "07:00", kind="start")
    assert codes(audit(site, conn, now=NOW)) == [("start-without-end", "medium", 1)]
    soon = DAY.replace(hour=8).astimezone(site.tz).replace(tzinfo=site.tz)
    assert codes(audit(site, conn, now=soon.replace(hour=9))) == [("start-without-end", "low", 1)]
    add(site, conn, "card_removal", "Staff room", "07:00", "07:10", kind="end", end_of=1)
    assert audit(site, conn, now=NOW) == []


def test_overlapping_actions_in_the_same_room(site, conn):
    add(site, conn, "export", "Staff room", "15:00", "15:40")
    add(site, conn, "angle_adjustment", "Hall", "15:10", "15:20")  # another room: fine
    third = add(site, conn, "performance_check", "Hall, staff room", "15:30", "15:50")
    findings = audit(site, conn, now=NOW)
    assert codes(findings) == [("overlapping-actions", "medium", third["seq"])]
    assert findings[0].other == 1


def test_unknown_person(site, conn):
    add(site, conn, "card_removal", "Staff room", "15:00", by="Smith J., guard")
    add(site, conn, "export", "Staff room", "16:00", by="Sidorova S.S., member of the commission")
    findings = audit(site, conn, now=NOW)
    assert codes(findings) == [("unknown-person", "medium", 1)]
    assert "Smith J., guard" in findings[0].message


def test_recorded_late_and_in_advance(site, conn):
    stated = DAY.replace(hour=15).replace(tzinfo=site.tz)
    add(site, conn, "export", "Staff room", "15:00", recorded=stated + timedelta(days=3))
    add(site, conn, "export", "Staff room", "16:00", recorded=stated + timedelta(hours=5))
    add(site, conn, "export", "Staff room", "17:00", recorded=stated - timedelta(hours=2))
    findings = audit(site, conn, now=NOW)
    assert codes(findings) == [("entry-before-action", "medium", 3), ("late-entry", "medium", 1)]
    assert "3 d after" in [f for f in findings if f.seq == 1][0].message  # as people say it
    tighter = audit(site, conn, now=NOW, late_after=timedelta(hours=3))
    assert ("late-entry", "medium", 2) in codes(tighter)


def test_tampered_log_is_a_high_finding(site, conn, cli):
    ordinary_day(site, conn)
    with raw(site.db_path) as db:
        edit(db, 2, action="performance_check")
    findings = audit(site, conn, now=NOW)
    assert codes(findings) == [("log-tampered", "high", 2)]
    result = cli("pak", "audit")
    assert result.exit_code == 1 and "log-tampered" in result.stdout
    assert cli("pak", "audit", "--no-chain").exit_code == 0


def test_cli_exit_codes_follow_severity(site, conn, cli):
    add(site, conn, "export", "Staff room", "15:00", by="Smith J., guard")  # medium only
    result = cli("pak", "audit")
    assert result.exit_code == 0 and "unknown-person" in result.stdout
    add(site, conn, "card_removal", "Room 12", "11:00")
    result = cli("pak", "audit", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and data["worst"] == "high"
    assert data["findings"][0]["code"] == "camera-action-during-exam"


# -- each rule alone, over a Journal of the rows it is for ------------------------------------
def journal_of(site, conn, **settings):
    from ppe_tech.pak.audit import Journal, parse_rows
    from ppe_tech.pak.journal import list_entries

    options = {"late_after": timedelta(hours=24), "now": NOW, **settings}
    return Journal(site, conn, parse_rows(site, list_entries(conn)), **options)


def test_rule_camera_action_during_exam_alone(site, conn):
    from ppe_tech.pak.audit import camera_action_during_exam

    add(site, conn, "angle_adjustment", "Room 12", "08:40", "08:45")  # before: quiet
    add(site, conn, "card_removal", "Hall", "11:00")  # not an exam room: medium
    add(site, conn, "card_installation", "Room 12", "13:50", "14:05")  # overlaps the end: high
    found = camera_action_during_exam(journal_of(site, conn))
    assert [(f.seq, f.severity, f.exam) for f in found] == [
        (2, "medium", "2026-05-28-math"),
        (3, "high", "2026-05-28-math"),
    ]


def test_rule_recording_off_before_exam_end_alone(site, conn):
    from ppe_tech.pak.audit import recording_off_before_exam_end

    add(site, conn, "recording_off", "Room 12", "08:00")
    add(site, conn, "recording_start", "Room 12", "08:30")  # started again: #1 is fine
    add(site, conn, "recording_off", "Hall", "09:00")  # never started again
    add(site, conn, "recording_off", "Room 12", "12:00")  # during the exam
    found = recording_off_before_exam_end(journal_of(site, conn))
    assert [f.seq for f in found] == [3, 4]
    assert "not started again" in found[0].message and "not started" not in found[1].message


def test_rule_start_without_end_alone(site, conn):
    from ppe_tech.pak.audit import start_without_end

    add(site, conn, "card_removal", "Staff room", "07:00", kind="start")
    assert [(f.seq, f.severity) for f in start_without_end(journal_of(site, conn))] == [
        (1, "medium")
    ]
    young = journal_of(site, conn, now=DAY.replace(hour=9).replace(tzinfo=site.tz))
    assert [f.severity for f in start_without_end(young)] == ["low"]


def test_rule_overlapping_actions_alone(site, conn):
    from ppe_tech.pak.audit import overlapping_actions

    add(site, conn, "export", "Hall", "14:00", "15:00")
    add(site, conn, "export", "Hall", "15:00", "15:30")  # touches: no overlap
    add(site, conn, "performance_check", "hall; Staff room", "14:30", "14:40")  # same room, cased
    add(site, conn, "performance_check", "Staff room", "14:35", "14:38")
    found = overlapping_actions(journal_of(site, conn))
    assert sorted((f.seq, f.other) for f in found) == [(3, 1), (4, 3)]


def test_rule_unknown_person_alone(site, conn):
    from ppe_tech.pak.audit import unknown_person

    add(site, conn, "export", "Hall", "15:00")
    add(site, conn, "export", "Hall", "15:10", by="Smith J., guard")
    found = unknown_person(journal_of(site, conn))
    assert [(f.seq, f.code) for f in found] == [(2, "unknown-person")]
    assert "performed by 'Smith J., guard'" in found[0].message


def test_rules_late_entry_and_entry_before_action_alone(site, conn):
    from ppe_tech.pak.audit import entry_before_action, late_entry

    local = lambda **kw: DAY.replace(**kw, tzinfo=site.tz)  # noqa: E731
    add(site, conn, "export", "Hall", "15:00", recorded=local(hour=15, minute=5))
    add(site, conn, "export", "Hall", "15:10", recorded=local(day=30, hour=16))
    add(site, conn, "export", "Hall", "15:20", recorded=local(hour=14))
    journal = journal_of(site, conn)
    assert [f.seq for f in late_entry(journal)] == [2]
    assert [f.seq for f in entry_before_action(journal)] == [3]
    assert [f.seq for f in late_entry(journal_of(site, conn, late_after=timedelta(0)))] == [1, 2]


def test_rule_log_tampered_alone(site, conn):
    from ppe_tech.pak.audit import log_tampered

    ordinary_day(site, conn)
    assert log_tampered(journal_of(site, conn)) == []
    with raw(site.db_path) as db:
        edit(db, 3, note="x")
    assert [(f.code, f.seq) for f in log_tampered(journal_of(site, conn))] == [("log-tampered", 3)]


def test_finding_json_keeps_its_documented_keys():
    from ppe_tech.pak.audit import Finding

    bare = Finding(severity="high", code="log-tampered", message="m", seq=None)
    assert bare.to_json() == {
        "severity": "high",
        "code": "log-tampered",
        "message": "m",
        "seq": None,
    }
    full = Finding(
        severity="high",
        code="c",
        message="m",
        seq=3,
        date="2026-05-28",
        rooms="R",
        action="export",
        exam="x",
    )
    assert full.to_json() == {
        "severity": "high",
        "code": "c",
        "message": "m",
        "seq": 3,
        "date": "2026-05-28",
        "rooms": "R",
        "action": "export",
        "exam": "x",
    }
