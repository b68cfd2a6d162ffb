"""Durations and clock times as people read them, in both languages of the point."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ppe_tech.timeutil import human_duration, local_clock


@pytest.mark.parametrize(
    ("seconds", "en", "ru"),
    [
        (0, "0 s", "0 с"),
        (59.9, "59 s", "59 с"),
        (60, "1 min", "1 мин"),
        (915, "15 min", "15 мин"),
        (3600, "1 h", "1 ч"),
        (31674, "8 h 47 min", "8 ч 47 мин"),
        (18720, "5 h 12 min", "5 ч 12 мин"),
        (86400 * 2 + 3 * 3600 + 59, "2 d 3 h", "2 сут 3 ч"),
        (-120, "-2 min", "-2 мин"),
    ],
)
def test_human_duration(seconds, en, ru):
    assert human_duration(seconds) == en
    assert human_duration(timedelta(seconds=seconds), "ru") == ru


def test_local_clock_names_the_zone():
    moment = datetime(2026, 5, 28, 7, 5, 9, tzinfo=UTC)
    assert local_clock(moment, ZoneInfo("Europe/Moscow")) == "10:05:09 MSK"
    assert local_clock(moment, ZoneInfo("Asia/Yekaterinburg"), seconds=False) == "12:05 UTC+05"
