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
