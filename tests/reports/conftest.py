"""Fixtures of the reports tests: a site with keys and a store holding every job's results.

The other jobs' results are written the way those jobs store them (their tables,
or their public API where one writes), so the reports read real rows.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import minimal_config, write_site

PASSPHRASE = "test-pass-Ключ"
EXAM = "2026-05-28-math"
CAMERAS = [
    {"id": "aud-0001-a", "zone": "auditorium", "room": "Аудитория 0001", "source": "cam1.mp4"},
    {"id": "corridor-1", "zone": "corridor", "room": "Коридор 1 этажа", "source": "cam2.mp4"},
    {"id": "entrance", "zone": "entrance", "room": "Вход", "source": "cam3.mp4"},
]


def russian_config(**overrides) -> dict:
    config = minimal_config(cameras=CAMERAS)
    config["point"] = {"code": "7701", "name": "Школа № 5", "address": "ул. Ленина, 1, Москва",
                       "region": "77", "timezone": "Europe/Moscow", "language": "ru"}  # fmt: skip
    config["staff"] = {
        "technician": {"name": "Иванов И.И.", "position": "технический специалист"},
        "head": {"name": "Петров А.А.", "position": "руководитель ППЭ"},
        "commission": {"name": "Сидорова С.С.", "position": "член ГЭК"},
    }
    config.update(overrides)
    return config


@pytest.fixture
def rsite(site_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """A Russian site with keys made by ``init_keys`` and the passphrase in the environment."""
    from ppe_tech.keys import init_keys
    from ppe_tech.site import load_site

    write_site(site_dir, russian_config())
    monkeypatch.setenv("PPE_KEY_PASSPHRASE", PASSPHRASE)
    site = load_site(site_dir)
    init_keys(site, PASSPHRASE.encode())
    return site


@pytest.fixture
def conn(rsite):
    from ppe_tech.store import connect

    db = connect(rsite.db_path)
    yield db
    db.close()


def add_checklist_run(conn, exam_id: str = EXAM, late_minutes: int = 0) -> None:
    cur = conn.execute(
        "INSERT INTO check_runs (checklist, title_ru, title_en, exam_id, started_at, finished_at,"
        " deadline, late_minutes, status, operator, disabled_items) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        ("pre-exam", "Проверка за два часа до начала", "Two hours before the start", exam_id,
         "2026-05-28T04:40:00Z", "2026-05-28T04:52:00Z", "2026-05-28T08:00:00+03:00", late_minutes,
         "failed", "tech", json.dumps(["printer-ready"])),
    )  # fmt: skip
    run_id = cur.lastrowid
    rows = [
        ("station-clock", "stations", "Станции", "Stations", "Часы станции", "Station clock",
         "critical", "clock", "pass", "+0.4 s", "within 60 s", None, None, None),
        ("station-version", "stations", "Станции", "Stations", "Версия ПО станции",
         "Station software version", "critical", "command", "fail", "3.7", ">=3.8",
         "version 3.7 is older than required", None, None),
        ("portal", "staff-room", "Штаб ППЭ", "Staff room", "Канал связи с порталом",
         "Link to the federal portal", "critical", "http", "pass", "200 in 80 ms", "200", None, None, None),
        ("backup-kit", "staff-room", "Штаб ППЭ", "Staff room", "Резервный комплект на месте",
         "Backup kit in place", "warning", "manual", "pass", "yes", "yes", None, "Иванов И.И.",
         "в сейфе"),
    ]  # fmt: skip
    for pos, r in enumerate(rows):
        conn.execute(
            "INSERT INTO check_results (run_id, position, item_id, section_id, section_ru, section_en,"
            " title_ru, title_en, severity, kind, status, value, expected, message, duration_ms,"
            " attempts, answered_by, comment, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (run_id, pos, *r[:12], 120, 1, r[12], r[13], "2026-05-28T04:51:00Z"),
        )


def add_archive(conn, exam_id: str = EXAM) -> None:
    files = [
        {"camera": cam, "path": f"data/2026-05-28/07/{cam}/{m:02d}.00.mp4", "size": 1_500_000 + m,
         "sha256": "ab" * 32, "start": f"2026-05-28T07:{m:02d}:00Z", "duration": 60.0, "decodable": True}
        for cam in ("corridor-1", "entrance") for m in range(3)
    ]  # fmt: skip
    conn.execute(
        "INSERT INTO recordings_archives (exam_id, created_at, window_start, window_end, margin_seconds,"
        " zones, cameras, bag_path, total_bytes, file_count, manifest_sha256, files, gaps, undecodable)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (exam_id, "2026-05-28T12:00:00Z", "2026-05-28T06:30:00Z", "2026-05-28T11:25:00Z", 1800,
         json.dumps(["corridor", "entrance"]), json.dumps(["corridor-1", "entrance"]),
         "/media/archive/7701-2026-05-28-math", sum(f["size"] for f in files), len(files),
         "c0ffee" * 10 + "abcd", json.dumps(files),
         json.dumps([{"camera": "entrance", "start": "2026-05-28T07:03:00Z",
                      "end": "2026-05-28T07:05:30Z", "seconds": 150}]), "[]"),
    )  # fmt: skip


def add_log(site, conn, n: int = 6) -> None:
    from ppe_tech.pak.journal import record_action

    actions = ["performance_check", "recording_start", "angle_adjustment", "export",
               "card_removal", "card_installation"]  # fmt: skip
    for i in range(n):
        start = (
            datetime(2026, 5, 28, 7, 0) if i == 0 else datetime(2026, 5, 28, 7 + (i % 5), i % 60)
        )
        record_action(site, conn, action=actions[i % len(actions)], rooms="Аудитория 0001, Штаб",
                      start=start, performed_by="technician", responsible="head")  # fmt: skip


@pytest.fixture
def populated(rsite, conn):
    add_checklist_run(conn)
    add_archive(conn)
    add_log(rsite, conn)
    return rsite


def pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        from pypdf import PdfReader

        return "\n".join(p.extract_text() for p in PdfReader(str(path)).pages)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
