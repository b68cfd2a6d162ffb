"""Rooms and stations in ppe.yaml: errors with file:line, warnings, older sites without rooms."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ppe_tech.errors import ConfigError
from ppe_tech.site import load_site
from tests.conftest import minimal_config, write_site
from tests.stations.conftest import CAMERAS, ROOMS, STATIONS, station_config


def test_rooms_and_stations_load(station_site: Path):
    site = load_site(station_site)
    assert [r.number for r in site.rooms] == ["0001", "0002", "7777"]
    assert site.station("print-0001").checklist_name == "station-print"
    assert site.station("auth-main").checklist_name == "station-authorisation"
    assert site.camera_room(site.camera("staff")) == "7777"
    assert site.camera_room(site.camera("corridor-1")) is None
    assert site.warnings == []


def _error(folder: Path, config: dict) -> str:
    write_site(folder, config)
    with pytest.raises(ConfigError) as caught:
        load_site(folder)
    return caught.value.message


def _line_of(folder: Path, needle: str, nth: int = 1) -> int:
    seen = 0
    for number, line in enumerate((folder / "ppe.yaml").read_text().splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == nth:
                return number
    raise AssertionError(needle)


def test_station_in_unknown_room(site_dir: Path):
    stations = [*STATIONS, {"id": "print-0009", "role": "print", "room": "0009"}]
    message = _error(site_dir, station_config(stations=stations))
    line = _line_of(site_dir, "room: 0009")
    assert (
        message
        == f"ppe.yaml:{line}: stations[4].room: unknown room '0009' (rooms: 0001, 0002, 7777)"
    )


def test_camera_in_unknown_room(site_dir: Path):
    cameras = [*CAMERAS, {"id": "aud-9", "zone": "auditorium", "room": "Hall", "source": "x.mp4"}]
    message = _error(site_dir, station_config(cameras=cameras))
    assert message.startswith(f"ppe.yaml:{_line_of(site_dir, 'room: Hall')}: cameras[4].room: ")
    assert "unknown room 'Hall'" in message


def test_two_stations_with_one_id(site_dir: Path):
    stations = [*STATIONS, {"id": "scan-0001", "role": "scan", "room": "0002"}]
    message = _error(site_dir, station_config(stations=stations))
    first, second = _line_of(site_dir, "id: scan-0001"), _line_of(site_dir, "id: scan-0001", 2)
    assert message == (
        f"ppe.yaml:{second}: stations[4].id: duplicate id 'scan-0001' (first at ppe.yaml:{first})"
    )


def test_two_rooms_with_one_number(site_dir: Path):
    rooms = [*ROOMS, {"number": "0002", "kind": "other"}]
    assert "rooms[3].number: duplicate number '0002'" in _error(
        site_dir, station_config(rooms=rooms)
    )


def test_room_number_must_be_quoted(site_dir: Path):
    text = yaml.safe_dump(station_config(), sort_keys=False).replace(
        "number: '0002'", "number: 0002"
    )
    (site_dir / "ppe.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_site(site_dir)
    assert "rooms[1].number: write the room number in quotes" in caught.value.message
    assert caught.value.message.startswith(f"ppe.yaml:{_line_of(site_dir, 'number: 0002')}:")


def test_unknown_role_is_an_error(site_dir: Path):
    stations = [{"id": "x", "role": "printer", "room": "0001"}]
    message = _error(site_dir, station_config(stations=stations))
    assert "stations[0].role: 'printer' is not one of print, scan, authorisation" in message


def test_auditorium_without_print_station_or_camera_warns(site_dir: Path):
    rooms = [*ROOMS, {"number": "0003", "kind": "auditorium"}]
    write_site(site_dir, station_config(rooms=rooms))
    site = load_site(site_dir)
    line = _line_of(site_dir, "number: '0003'")
    assert [str(w) for w in site.warnings] == [
        f"ppe.yaml:{line}: auditorium 0003 has no print station",
        f"ppe.yaml:{line}: auditorium 0003 has no camera",
    ]


def test_older_site_without_rooms_keeps_working(site_dir: Path):
    cameras = [
        {"id": "a1", "zone": "auditorium", "room": "Auditorium 0001", "source": "a.mp4"},
        {"id": "a2", "zone": "auditorium", "room": "Auditorium 0001", "source": "b.mp4"},
        {"id": "st", "zone": "staff-room", "room": "Staff room", "source": "c.mp4"},
        {"id": "c1", "zone": "corridor", "source": "d.mp4"},
    ]
    write_site(site_dir, minimal_config(cameras=cameras))
    site = load_site(site_dir)
    assert [(r.number, r.kind, r.name) for r in site.rooms] == [
        ("0001", "auditorium", "Auditorium 0001"),
        ("Staff-room", "staff-room", "Staff room"),
    ]
    assert site.camera_room(site.camera("a2")) == "0001"
    assert len(site.warnings) == 1
    assert "no rooms: list; rooms derived from the cameras' room names (fix: add rooms:" in str(
        site.warnings[0]
    )


def test_site_without_rooms_or_cameras_has_no_warning(site_dir: Path):
    assert load_site(site_dir).warnings == []


def test_starter_file_has_rooms_and_stations(tmp_path: Path, cli, monkeypatch):
    result = cli("init", str(tmp_path / "new"))
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("CAM_PASSWORD", "pw")
    site = load_site(tmp_path / "new")
    assert {r.kind for r in site.rooms} == {"auditorium", "staff-room"}
    assert {s.role for s in site.config.stations} >= {"print", "authorisation"}
    assert site.warnings == []
