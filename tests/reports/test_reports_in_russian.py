"""Every report command on the demo point (point.language ru) speaks Russian (issue 15): the
summaries of readiness, act, room, archive and access-log, list, show, sign and verify (valid and
changed files); no English word is left in what they print."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import english_left, ru_run

# a report's number (7701-RDY-2026-0001) is printed so on the Russian form too: an id, not words
REPORT_NUMBER = re.compile(r"\b\d{4}-[A-Z]+-\d{4}-\d{4}\b")


@pytest.fixture
def point(demo_ru: Path, tmp_path: Path) -> Path:
    """A private copy of the demo point (reports are made in it)."""
    return Path(shutil.copytree(demo_ru, tmp_path / "point", symlinks=True))


def _russian(site: Path, *args: str, codes: tuple[int, ...] = (0,)) -> str:
    done = ru_run(site, *args)
    out = done.stdout + done.stderr
    assert done.returncode in codes, out
    assert english_left(REPORT_NUMBER.sub(" ", out), site) == [], out
    return out


def _exams(site: Path) -> list[str]:
    exams = yaml.safe_load((site / "ppe.yaml").read_text(encoding="utf-8"))["exams"]
    return [e["id"] for e in exams]


def test_reports_made_listed_shown_and_verified_in_russian(point: Path, tmp_path: Path):
    past, today = _exams(point)
    made = _russian(point, "report", "readiness")
    assert "(подписан техническим специалистом, SHA-256 " in made, made
    _russian(point, "report", "act", "--exam", today)
    _russian(point, "report", "room", "--room", "0001")
    _russian(point, "report", "access-log")
    (tmp_path / "stick").mkdir()  # a second bag of yesterday's exam, and its act
    copied = ru_run(point, "recordings", "archive", "--exam", past, "--to", str(tmp_path / "stick"))
    assert copied.returncode == 0, copied.stderr
    _russian(point, "report", "archive", "--bag", str(next((tmp_path / "stick").iterdir())))
    listed = _russian(point, "report", "list")
    assert "протокол готовности" in listed and "технический специалист + руководитель ППЭ" in listed
    shown = ru_run(point, "report", "show", "7701-LOG-2026-0003")
    # after its label, the checkpoint as signed: a machine format (its "time" line, key name)
    words, label, signed = shown.stdout.partition("\nконтрольная точка:\n")
    assert label and all(line.startswith("  ") for line in signed.splitlines()), shown.stdout
    assert english_left(REPORT_NUMBER.sub(" ", words + shown.stderr), point) == [], shown.stdout
    assert "вид: выписка из журнала" in words and "язык: русский" in words, words
    (readiness,) = (point / "reports").glob("*-RDY-*-0001-*.pdf")
    verified = _russian(point, "report", "verify", str(readiness))
    roles = "2 подписи (технический специалист, руководитель ППЭ)"
    assert verified.startswith("ВЕРНО: ") and roles in verified, verified
    assert "свой ключ" in verified and "совпадает с журналом" in verified, verified
    act = sorted((point / "reports").glob("*-ARC-*.pdf"))[0]
    signed = _russian(point, "report", "sign", str(act))
    assert "подписано, роль: руководитель ППЭ" in signed, signed


def test_a_changed_report_fails_in_russian(point: Path):
    (readiness,) = (point / "reports").glob("*-RDY-*.pdf")
    data = bytearray(readiness.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a byte inside the signed range
    readiness.write_bytes(bytes(data))
    out = _russian(point, "report", "verify", str(readiness), codes=(1,))
    assert out.startswith("НЕ ПРОЙДЕНО: "), out
