"""Each station's state, each room's readiness and the point's, from a real store."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from ppe_tech.site import load_site
from ppe_tech.stations.results import (
    HOW_HAND,
    list_station_runs,
    load_station_run,
    point_readiness,
    save_station_run,
    station_states,
)
from ppe_tech.store import connect, transaction
from tests.stations.made_results import item, result

NOW = datetime.fromisoformat("2026-05-28T05:00:00+00:00")  # 08:00 Moscow: the deadline


@pytest.fixture
def point(station_site: Path):
    site = load_site(station_site)
    conn = connect(site.db_path)
    return site, conn, site.exam("2026-05-28-math")


def verify_cameras(conn, statuses: dict[str, str], at: str = "2026-05-28T04:30:00+00:00"):
    with transaction(conn):
        run = conn.execute(
            "INSERT INTO camera_runs (started_at, finished_at, exam_id, sample_s, selection, status)"
            " VALUES (?, ?, '2026-05-28-math', 3, 'all', 'ok')",
            (at, at),
        ).lastrowid
        for camera, status in statuses.items():
            conn.execute(
                "INSERT INTO camera_results VALUES (?, ?, 'auditorium', '', 'x', ?, '[]', '{}', NULL, 1)",
                (run, camera, status),
            )


ALL_CAMERAS = {"aud-0001-a": "ok", "aud-0002-a": "warning", "staff": "ok", "corridor-1": "fail"}


def test_every_station_checked_means_ready(point):
    site, conn, exam = point
    for station, room, role in [
        ("print-0001", "0001", "print"),
        ("scan-0001", "0001", "scan"),
        ("print-0002", "0002", "print"),
    ]:
        save_station_run(conn, result(station, room, role))
    save_station_run(conn, result("auth-main", "7777", "authorisation", how=HOW_HAND))
    verify_cameras(conn, ALL_CAMERAS)
    readiness = point_readiness(conn, site, exam, now=NOW.replace(hour=3, minute=8))
    assert readiness.ready, readiness.summary
    assert readiness.summary == "ready, 1 h 52 min before the deadline"
    states = {s.station_id: s.state for s in station_states(conn, site, exam)}
    assert states == {
        "print-0001": "passed",
        "scan-0001": "passed",
        "print-0002": "passed",
        "auth-main": "confirmed",
    }
    data = json.loads(json.dumps(readiness.to_json()))
    assert data["ready"] is True and [r["number"] for r in data["rooms"]] == [
        "0001",
        "0002",
        "7777",
    ]


def test_a_station_never_checked_is_named(point):
    site, conn, exam = point
    save_station_run(conn, result("print-0001", "0001", "print"))
    save_station_run(conn, result("scan-0001", "0001", "scan"))
    save_station_run(conn, result("auth-main", "7777", "authorisation"))
    verify_cameras(conn, ALL_CAMERAS)
    readiness = point_readiness(conn, site, exam, now=NOW)
    assert not readiness.ready
    assert readiness.summary == "not ready: auditorium 0002: print station print-0002 never checked"


def test_failed_items_and_cameras_are_reasons(point):
    site, conn, exam = point
    items = (
        item("station-clock"),
        item("printer-ready", "fail"),
        item("antivirus", "fail", "warning"),
    )
    save_station_run(conn, result("print-0001", "0001", "print", items=items))
    verify_cameras(conn, {**ALL_CAMERAS, "aud-0001-a": "fail"})
    room = point_readiness(conn, site, exam, now=NOW).rooms[0]
    assert room.reasons[0] == "print station print-0001 failed: printer-ready"
    assert "camera aud-0001-a fail" in room.reasons
    assert room.stations[0].failed_items == ("printer-ready",)


def test_stale_results(point):
    site, conn, exam = point
    # for another exam, and for this exam but two days early (before the day-before window)
    save_station_run(conn, result("print-0001", "0001", "print", exam="2026-05-27-russian"))
    save_station_run(conn, result("print-0002", "0002", "print", at="2026-05-26T09:00:00+00:00"))
    # the day before at 00:30 Moscow is inside the window
    save_station_run(conn, result("scan-0001", "0001", "scan", at="2026-05-26T21:30:00+00:00"))
    states = {s.station_id: s for s in station_states(conn, site, exam)}
    assert states["print-0001"].state == "stale"
    assert states["print-0001"].reason == "stale: checked for exam 2026-05-27-russian"
    assert states["print-0002"].reason == "stale: checked before the day-before window"
    assert states["scan-0001"].state == "passed"
    assert states["auth-main"].state == "not-checked"


def test_latest_check_wins(point):
    site, conn, exam = point
    save_station_run(conn, result("print-0001", "0001", "print", items=(item("x", "fail"),)))
    save_station_run(
        conn, result("print-0001", "0001", "print", how=HOW_HAND, at="2026-05-28T04:10:00+00:00")
    )
    assert station_states(conn, site, exam)[0].state == "confirmed"


def test_rows_read_back_as_written(point):
    site, conn, exam = point
    written = result("print-0001", "0001", "print", items=(item("a"), item("b", "fail")))
    run_id = save_station_run(conn, written)
    stored = load_station_run(conn, run_id)
    assert stored.items == written.items
    assert stored.to_json()["failed_items"] == ["b"]
    assert [r.run_id for r in list_station_runs(conn, exam_id=exam.id)] == [run_id]
    assert list_station_runs(conn, station_id="scan-0001") == []


def test_stations_exit_0_only_when_every_room_is_ready(point, cli):
    site, conn, exam = point
    for station in site.config.stations:
        save_station_run(conn, result(station.id, station.room, station.role))
    verify_cameras(conn, {**ALL_CAMERAS, "staff": "fail"})
    assert cli("stations", "--exam", exam.id).exit_code == 1
    verify_cameras(conn, ALL_CAMERAS, at="2026-05-28T04:40:00+00:00")  # verified again: ok
    shown = cli("stations", "--exam", exam.id)
    assert shown.exit_code == 0, shown.output
    assert "staff room 7777 (Staff room): ready" in shown.stdout
    assert "after the deadline" in shown.stdout.splitlines()[-1]  # 2026-05-28 is long past


def test_stations_without_an_exam_today_is_a_usage_error(point, cli):
    result = cli("stations")
    assert (
        result.exit_code == 2 and "every exam of ppe.yaml is over: give --exam ID" in result.stderr
    )
