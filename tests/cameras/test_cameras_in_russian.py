"""``ppe-tech cameras ...`` on the Russian demo point: every line in Russian, the codes and the
English messages kept in ``--json`` (issue 15). The demo's cameras are files: all offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ppe_tech.cameras import findings
from ppe_tech.i18n import current_language, set_language
from tests.conftest import english_left, ru_run


def _said(result) -> str:
    # the "ppe-tech: warning:" prefix is the check group's (tested there); the line is ours
    return (result.stdout + result.stderr).replace("ppe-tech: warning: ", "")


@pytest.mark.parametrize(
    "args",
    [
        ("cameras", "list"),
        ("cameras", "show"),
        ("cameras", "show", "all"),
        ("cameras", "show", "1"),
    ],
    ids=" ".join,
)
def test_reading_commands_speak_russian(demo_ru: Path, args):
    result = ru_run(demo_ru, *args)
    assert result.returncode == 0, result.stderr
    assert english_left(_said(result), demo_ru) == []


def test_a_stored_english_finding_is_shown_in_russian_and_kept_in_json(demo_ru: Path):
    shown = ru_run(demo_ru, "cameras", "show")
    assert "закрыта: структура эталона потеряна на" in shown.stdout
    assert "НЕ ПРОЙДЕНО  5 камер: норма: 4, не пройдено: 1" in shown.stdout
    data = json.loads(ru_run(demo_ru, "cameras", "show", "--json").stdout)
    covered = next(c for c in data["cameras"] if c["id"] == "aud-0002-a")["findings"][0]
    assert covered["code"] == "covered"
    assert covered["message"].startswith("structure of the reference lost over")


def test_verify_and_reference_speak_russian(demo_ru: Path, tmp_path: Path):
    site = tmp_path / "demo"
    shutil.copytree(demo_ru, site, symlinks=True)
    verify = ru_run(site, "cameras", "verify")
    assert verify.returncode == 1, verify.stderr  # aud-0002-a is covered
    assert "Проверка камер №" in verify.stdout and "снимки в" in verify.stdout
    assert english_left(_said(verify), site) == []
    reference = ru_run(site, "cameras", "reference", "--camera", "aud-0001-a", "--yes")
    assert reference.returncode == 0, reference.stderr
    assert "aud-0001-a: эталон сохранён в" in reference.stdout
    assert english_left(_said(reference), site) == []


def test_discover_speaks_russian(demo_ru: Path):
    result = ru_run(demo_ru, "cameras", "discover", "--timeout", "0.3")
    assert english_left(_said(result), demo_ru) == []


SAMPLES = {
    "source": "cameras/a.mp4",
    "detail": "Connection refused",
    "seconds": "5",
    "where": "10.0.0.21:554",
    "host": "cam.local",
    "error": "Name or service not known",
    "protocol": "RTSP",
    "line": "'SSH-2.0'",
    "answer": "RTSP/1.0 404 Not Found",
    "code": "-9",
    "stalls": "2",
    "after": "1.5",
    "fps": "4.0",
    "expected": "15",
    "size": "640x480",
    "mpx": "8.3",
    "brightness": "3.1",
    "contrast": "0.4",
    "pct": "68%",
    "frames": "30",
    "px": "40",
    "degrees": "3.0",
    "lost": "32",
    "cells": "47",
    "name": "aud-0001-a.png",
}


@pytest.fixture
def russian():
    before = current_language()
    set_language("ru")
    yield
    set_language(before)


@pytest.mark.parametrize("name", sorted(findings._templates(findings._as_is)))
def test_every_finding_message_is_said_again_in_russian(name: str, russian):
    values = {**SAMPLES, "how": "x", "what": "x"}  # parts of composites: test below
    english = findings.say(name, **values)
    said = findings.message_text(english)
    assert said == findings._templates(findings._)[name].format(**values)
    assert said != english or name == "socket_error"  # "{where}: {error}" reads the same


def test_composite_messages_are_said_part_by_part(russian):
    moved = findings.say(
        "moved",
        how=", ".join(
            [findings.say("shifted", px="40", pct="5.2%"), findings.say("zoomed", pct="+4%")]
        ),
    )
    assert findings.message_text(moved) == (
        "вид смещён относительно эталона: сдвиг 40 px (5.2% кадра), масштаб +4%"
    )
    busy = findings.say("busy_camera", what="timeout, no_frames", pct="92%")
    assert "не отвечает, нет кадров" in findings.message_text(busy)
    assert findings.message_text("something no template knows") == "something no template knows"


def test_every_code_and_status_has_a_russian_label(russian):
    for code in findings.CODES:
        assert findings.code_label(code) != code
    for status in ("ok", "warning", "fail", "not-verified"):
        assert findings.status_label(status) != status
