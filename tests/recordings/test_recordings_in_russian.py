"""Every recordings command on the demo point (point.language ru) speaks Russian (issue 15):
no English word is left in what it prints, times are the point's, sizes in GiB/MiB."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import english_left, ru_run


@pytest.fixture
def point(demo_ru: Path, tmp_path: Path) -> Path:
    """A private copy of the demo point (an archive run writes to it)."""
    return Path(shutil.copytree(demo_ru, tmp_path / "point", symlinks=True))


def _past_exam(site: Path) -> str:
    return yaml.safe_load((site / "ppe.yaml").read_text(encoding="utf-8"))["exams"][0]["id"]


def _russian(site: Path, *args: str, codes: tuple[int, ...] = (0,)) -> str:
    done = ru_run(site, *args)
    out = done.stdout + done.stderr
    assert done.returncode in codes, out
    assert english_left(out, site) == [], out
    return out


def test_archive_status_list_and_verify_in_russian(point: Path, tmp_path: Path):
    exam = _past_exam(point)
    (bag,) = (point / "archive").iterdir()
    (tmp_path / "stick").mkdir()
    fresh = _russian(
        point, "recordings", "archive", "--exam", exam, "--to", str(tmp_path / "stick")
    )
    # the window and the planted gap in the point's time, the gap as people say it
    assert "интервал " in fresh and " MSK, камеры corridor-1, entrance" in fresh, fresh
    assert "пропуск corridor-1: " in fresh and " MSK, 10 мин" in fresh, fresh
    assert "в архив записано: 53 файла" in fresh and "+00:00" not in fresh, fresh
    again = _russian(point, "recordings", "archive", "--exam", exam)
    assert "уже в архиве, проверено" in again, again
    listed = _russian(point, "recordings", "list")
    assert "экзамен " + exam in listed and " MSK" in listed, listed
    for mode in ((), ("--fast",)):
        checked = _russian(point, "recordings", "verify", *mode, str(bag))
        assert "ВЕРЕН" in checked and "совпадает с записью ППЭ" in checked, checked
    _russian(point, "recordings", "status")
    _russian(point, "recordings", "watch", "--for", "1s", "--interval", "0.5s")


def test_a_changed_bag_is_reported_in_russian(point: Path):
    (bag,) = (point / "archive").iterdir()
    victim = next((bag / "data").rglob("*.mp4"))
    victim.unlink()
    out = _russian(point, "recordings", "verify", str(bag), codes=(1,))
    assert "НЕВЕРЕН" in out and "нет файла" in out, out
