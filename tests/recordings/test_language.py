"""Recordings status and watch on a Russian point speak Russian; PPE_LANG chooses otherwise."""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import minimal_config, write_site

# Words that stay Latin in Russian output: ids and codes of the user's own making, units, paths.
ALLOWED = {
    "cam",
    "ppe",
    "tech",
    "mp4",
    "ctrl",
    "msk",
    "utc",
    "gib",
    "mib",
    "kib",
    "tib",
    "frigate",
    "layout",
    "date",
    "hour",
    "camera",
    "minute",
    "second",
    "root",
    "site",
}


def _english_words(text: str) -> set[str]:
    text = re.sub(r"(/|\{)[^\s]*", " ", text)  # paths and layout templates are the user's own
    return {w for w in re.findall(r"[A-Za-z]{2,}", text) if w.lower() not in ALLOWED}


@pytest.fixture
def russian_site(site_dir, tmp_path, segments):
    root = tmp_path / "root"
    ended = datetime.now(UTC) - timedelta(hours=2)
    for camera in ("cam-a", "cam-b"):
        start = ended - timedelta(seconds=10)
        path = root / f"{start:%Y-%m-%d}/{start:%H}/{camera}/{start:%M}.{start:%S}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(segments[0], path)
        os.utime(path, (ended.timestamp(), ended.timestamp()))
    config = minimal_config(
        cameras=[{"id": c, "zone": "corridor", "source": "x"} for c in ("cam-a", "cam-b")],
        recordings={"root": str(root), "min_free": "1000T", "stall": "60s"},
    )
    config["point"]["language"] = "ru"
    today = datetime.now(ZoneInfo("Europe/Moscow")).date().isoformat()
    config["exams"] = [
        {
            "id": "0001",
            "subject": "Математика",
            "date": today,
            "start": "00:00",
            "duration": "23h59m",
        }
    ]
    write_site(site_dir, config)
    return site_dir


def test_recordings_speak_russian_on_a_russian_point(cli, russian_site, monkeypatch):
    monkeypatch.delenv("PPE_LANG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    status = cli("recordings", "status")
    watch = cli("recordings", "watch", "--for", "0.5s", "--interval", "0.2s")
    assert status.exit_code == 1 and watch.exit_code == 0, watch.stderr
    assert "ТРЕВОГА нет записи cam-a, cam-b (2 камеры): нет новых записей 2 ч" in watch.stderr
    assert "диск записи: свободно" in watch.stderr and "остановлено; 3 тревоги" in watch.stderr
    assert "проблема" in status.stdout and "во время экзамена" in status.stdout
    for output in (status.stdout, watch.stderr):
        assert not _english_words(output), output


def test_ppe_lang_and_lang_choose_english(cli, russian_site, monkeypatch):
    monkeypatch.setenv("PPE_LANG", "en")
    watch = cli("recordings", "watch", "--for", "0.3s", "--interval", "0.2s")
    assert "no new segment for 2 h" in watch.stderr and "(2 cameras)" in watch.stderr
