"""A point with rooms and stations, for the station tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import minimal_config, write_site

ROOMS = [
    {"number": "0001", "kind": "auditorium", "name": "Auditorium 0001"},
    {"number": "0002", "kind": "auditorium", "name": "Auditorium 0002"},
    {"number": "7777", "kind": "staff-room", "name": "Staff room"},
]
STATIONS = [
    {"id": "print-0001", "role": "print", "room": "0001"},
    {"id": "scan-0001", "role": "scan", "room": "0001"},
    {"id": "print-0002", "role": "print", "room": "0002"},
    {"id": "auth-main", "role": "authorisation", "room": "7777"},
]
CAMERAS = [
    {"id": "aud-0001-a", "zone": "auditorium", "room": "0001", "source": "cameras/a.mp4"},
    {"id": "aud-0002-a", "zone": "auditorium", "room": "0002", "source": "cameras/b.mp4"},
    {"id": "staff", "zone": "staff-room", "room": "7777", "source": "cameras/c.mp4"},
    {"id": "corridor-1", "zone": "corridor", "source": "cameras/d.mp4"},
]


def station_config(**overrides) -> dict:
    config = minimal_config(rooms=ROOMS, stations=STATIONS, cameras=CAMERAS)
    config.update(overrides)
    return config


@pytest.fixture
def station_site(site_dir: Path) -> Path:
    """The autouse site folder, rewritten as a point with three rooms and four stations."""
    return write_site(site_dir, station_config())


HARDWARE = ["printer-ready", "scanner-connected", "token-reader"]  # a test machine has none


def checks_vars(folder: Path, ntp_port: int) -> dict:
    """checks: for a point whose stations are this machine: a loopback SNTP server, a version
    file, this test's own process as the 'antivirus', a fresh file as its bases."""
    software = folder / "station-software" / "version.txt"
    software.parent.mkdir(parents=True, exist_ok=True)
    software.write_text("Station print EM 26.1.4\n", encoding="utf-8")
    return {
        "vars": {
            "ntp_server": "127.0.0.1",
            "ntp_port": ntp_port,
            "station_version": ">=26.1",
            "station_version_file": str(software),
            "antivirus_process": "python|pytest",
            "antivirus_signatures": str(software),
            "crypto_process": "python|pytest",
            "min_free": "1M",
        },
        "disabled": HARDWARE,
    }


@pytest.fixture
def ntp():
    from ppe_tech.demo_services import SntpServer

    with SntpServer() as server:
        yield server


@pytest.fixture
def checked_site(site_dir: Path, tmp_path: Path, ntp) -> Path:
    """A point with rooms and stations whose station checks can pass on this machine."""
    exams = [
        *minimal_config()["exams"],
        {
            "id": "2026-05-29-physics",
            "subject": "Physics",
            "date": "2026-05-29",
            "start": "10:00",
            "duration": "3h55m",
        },
    ]
    return write_site(site_dir, station_config(exams=exams, checks=checks_vars(tmp_path, ntp.port)))
