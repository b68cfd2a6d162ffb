"""``ppe-tech station ...``, ``stations`` and ``keys ...`` on the Russian demo point: every line
in Russian (readiness, roles, states, reasons, config warnings), the JSON in English (issue 15)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import english_left, ru_run


def _said(result) -> str:
    # the "ppe-tech: warning:" prefix is the check group's (tested there); the line is ours
    return (result.stdout + result.stderr).replace("ppe-tech: warning: ", "")


@pytest.fixture
def point(demo_ru: Path, tmp_path: Path) -> Path:
    """A copy of the demo point, for the commands that change it."""
    copy = tmp_path / "demo"
    shutil.copytree(demo_ru, copy, symlinks=True)
    return copy


def test_stations_speak_russian_and_json_stays_english(demo_ru: Path):
    shown = ru_run(demo_ru, "stations")
    assert shown.returncode == 1  # auditoriums 0002 and 0003 are not ready
    assert english_left(_said(shown), demo_ru) == []
    lines = shown.stdout.splitlines()
    assert "аудитория 0001 (Auditorium 0001): готово" in lines
    assert (
        "аудитория 0003 (Auditorium 0003): НЕ ГОТОВО: станция печати print-0003 не проверялась, "
        "нет камеры в ppe.yaml"
    ) in lines
    assert "у аудитории 0003 нет камеры" in shown.stderr
    assert lines[-1].startswith("не готово: аудитория 0002: камера aud-0002-a: не пройдено;")
    data = json.loads(ru_run(demo_ru, "stations", "--json").stdout)
    third = data["rooms"][2]
    assert third["reasons"] == ["print station print-0003 never checked", "no camera in ppe.yaml"]
    assert third["stations"][0]["state"] == "not-checked"
    assert third["stations"][0]["reason"] == "never checked"
    assert "reason_text" not in third["stations"][0]
    assert data["summary"].startswith("not ready: auditorium 0002: camera aud-0002-a fail;")


def test_the_point_language_alone_makes_the_warnings_russian(demo_ru: Path):
    """No $PPE_LANG: the warnings are made while ppe.yaml loads, before its point.language is
    known, and are still said in Russian."""
    env = {k: v for k, v in os.environ.items() if k not in ("PPE_LANG", "PPE_SITE")}
    shown = subprocess.run(
        [sys.executable, "-m", "ppe_tech", "--site", str(demo_ru), "stations"],
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "200"},
        timeout=120,
    )
    assert "ppe.yaml:37: у аудитории 0003 нет камеры" in shown.stderr
    assert english_left(_said(shown), demo_ru) == []


def test_station_confirm_import_enroll_and_run_speak_russian(point: Path, tmp_path: Path):
    confirm = ru_run(point, "station", "confirm", "--station", "print-0003", "--no-input")
    assert confirm.returncode == 1  # nothing answered: the critical items did not pass
    assert "print-0003 (помещение 0003, печать), экзамен" in confirm.stdout
    assert ", вручную: не пройдено (не пройдено: " in confirm.stdout
    stick = tmp_path / "stick"
    enroll = ru_run(point, "station", "enroll", str(stick))
    assert enroll.returncode == 0, enroll.stderr
    assert "на каждой станции выполните:" in enroll.stdout
    run = ru_run(
        stick / "ppe-station",
        *("station", "run", "--station", "print-0003", "--out", str(stick / "results")),
        "--no-input",
    )
    assert run.returncode == 1, run.stderr  # nobody at the station: manual items unanswered
    assert ", на станции: не пройдено" in run.stdout and "записан " in run.stdout
    imported = ru_run(point, "station", "import", str(stick / "results"))
    assert imported.returncode == 0, imported.stderr
    assert "загружено: 1, уже были загружены: 0, отклонено: 0" in imported.stdout
    for result in (confirm, enroll, run, imported):
        assert english_left(_said(result), point) == [], result.args


def test_keys_show_speaks_russian(demo_ru: Path):
    shown = ru_run(demo_ru, "keys", "show")
    assert shown.returncode == 0, shown.stderr
    assert "руководитель ППЭ: Петров А.А.: ключ в файле (" in shown.stdout
    assert "назначение ключа: цифровая подпись, неотрекаемость" in shown.stdout
    data = json.loads(ru_run(demo_ru, "keys", "show", "--json").stdout)
    text = _said(shown)
    for cert in (data["certificate"], *data["trust_roots"]):  # the certificate's own words
        text = text.replace(cert["subject"], " ").replace(cert["issuer"], " ")
    for role in data["people"]:  # a role's id, typed in a command: --person commission
        text = text.replace(f"--person {role['role']}", " ")
    assert english_left(text, demo_ru) == []
