"""Per-room protocols ППЭ-01-01 (auditorium) and ППЭ-01-02 (staff room), from the rooms and
stations model (ppe_tech.stations.results) and the exam's camera verification."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ppe_tech.errors import ExitCode
from tests.reports.conftest import EXAM, add_camera_run, keyed_site, pdf_text, russian_config
from tests.reports.test_forms import latin_words

CAMERAS = [
    {"id": "aud-0001-a", "zone": "auditorium", "room": "0001", "source": "cam1.mp4"},
    {"id": "corridor-1", "zone": "corridor", "room": "Коридор 1 этажа", "source": "cam2.mp4"},
    {"id": "entrance", "zone": "entrance", "room": "Вход", "source": "cam3.mp4"},
]


def _station_run(site, conn, station_id: str, room: str, role: str, status: str = "passed"):
    from ppe_tech.stations.results import StationItem, StationResult, save_station_run

    now = datetime(2026, 5, 28, 5, 0, tzinfo=UTC)
    items = (
        StationItem(
            "station-version",
            "software",
            "Версия ПО станции",
            "Station software version",
            "critical",
            "software",
            "pass",
            "11.2",
            ">=11.0",
            "",
            20,
            1,
            None,
            None,
            now.isoformat(),
        ),
        StationItem(
            "printer-ready",
            "devices",
            "Принтер готов",
            "Printer ready",
            "critical",
            "manual",
            "pass" if status == "passed" else "fail",
            "да",
            "да",
            "",
            0,
            1,
            "Иванов И.И.",
            None,
            now.isoformat(),
        ),
    )
    result = StationResult(
        point_code="7701",
        station_id=station_id,
        room=room,
        role=role,
        exam_id=EXAM,
        how="station run",
        status=status,
        checklist="station-print",
        checklist_sha256="ab" * 32,
        ppe_tech_version="0.1.0",
        started_at=now,
        finished_at=now,
        operator="Иванов И.И.",
        items=items,
        file_sha256=f"{station_id}-{status}",
    )
    return save_station_run(conn, result)


@pytest.fixture
def roomsite(site_dir, monkeypatch):
    from ppe_tech.store import connect

    config = russian_config(cameras=CAMERAS)
    config["rooms"] = [
        {"number": "0001", "kind": "auditorium"},
        {"number": "7777", "kind": "staff-room", "name": "Штаб"},
    ]
    config["stations"] = [
        {"id": "print-0001", "role": "print", "room": "0001"},
        {"id": "auth-main", "role": "authorisation", "room": "7777"},
    ]
    for exam in config["exams"]:
        exam["subject"] = "Математика"
    site = keyed_site(site_dir, monkeypatch, config)
    db = connect(site.db_path)
    add_camera_run(site, db, 3)
    yield site, db
    db.close()


def test_auditorium_protocol_ppe_01_01(roomsite, cli):
    site, conn = roomsite
    _station_run(site, conn, "print-0001", "0001", "print")
    _station_run(site, conn, "auth-main", "7777", "authorisation")
    made = cli("report", "room", "--exam", EXAM, "--room", "all")
    assert made.exit_code == 0, made.stderr
    files = sorted(site.reports_dir.glob("*room-*-ru.pdf"))  # one PDF per room
    assert [f.name.split("-room-")[1] for f in files] == ["0001-ru.pdf", "7777-ru.pdf"]
    room = pdf_text(files[0])
    for needle in (
        "Форма ППЭ-01-01",
        "Протокол технической готовности аудитории",
        "Номер аудитории 0001",
        "print-0001: станция печати ЭМ",
        "готова",
        "Версия ПО станции",
        "11.2",
        "автоматически (проверка на станции)",
        "aud-0001-a",
        "Аудитория готова к проведению экзамена",
        "Технический специалист",
        "Член ГЭК",
        "Руководитель ППЭ",
        "Подпись",
    ):
        assert needle in room, needle
    assert latin_words(room) <= {"print"}  # the station id print-0001 is the user's own
    staff = pdf_text(files[1])
    assert "Форма ППЭ-01-02" in staff and "Протокол технической готовности Штаба ППЭ" in staff
    assert "станция авторизации" in staff


def test_room_with_a_station_never_checked_is_refused(roomsite, cli):
    _one = cli("report", "room", "--exam", EXAM, "--room", "0001")
    assert _one.exit_code == ExitCode.FAILED, _one.stderr
    assert "stations never checked for this exam: print-0001" in _one.stderr
    made = cli("report", "room", "--exam", EXAM, "--room", "0001", "--allow-incomplete")
    assert made.exit_code == 0, made.stderr
    text = pdf_text(sorted(roomsite[0].reports_dir.glob("*room-0001-ru.pdf"))[0])
    assert "(неполный)" in text and "не проверены станции: print-0001" in text
    assert "Аудитория не готова к проведению экзамена" in text
    unknown = cli("report", "room", "--exam", EXAM, "--room", "0099")
    assert (
        unknown.exit_code == ExitCode.USAGE and "помещения '0099' нет в ppe.yaml" in unknown.stderr
    )
