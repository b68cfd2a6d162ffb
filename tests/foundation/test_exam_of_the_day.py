"""The exam of the day (issue 15, item 3): which exam a command picks without --exam, named on
stderr before it starts, with a warning when a check is for an exam already over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ppe_tech.site import load_site
from tests.conftest import minimal_config, write_site

MSK = ZoneInfo("Europe/Moscow")


def _exam(exam_id: str, day: str, start: str, duration: str = "3h") -> dict:
    return {"id": exam_id, "subject": "Maths", "date": day, "start": start, "duration": duration}


@pytest.fixture
def two_a_day(tmp_path):
    """Two exams on 2026-12-02 (10:00-13:00, 15:00-17:00), one on 2026-12-04, one 2026-11-30."""
    exams = [
        _exam("nov-30", "2026-11-30", "10:00"),
        _exam("dec-02-am", "2026-12-02", "10:00"),
        _exam("dec-02-pm", "2026-12-02", "15:00", "2h"),
        _exam("dec-04", "2026-12-04", "10:00"),
    ]
    return load_site(write_site(tmp_path / "s", minimal_config(exams=exams)))


def _at(day: int, clock: str) -> datetime:
    hour, minute = map(int, clock.split(":"))
    return datetime(2026, 12, day, hour, minute, tzinfo=MSK).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "ahead", "recorded"),
    [
        (_at(2, "07:00"), "dec-02-am", "dec-02-am"),  # the morning: today's, not the 30th's gaps
        (_at(2, "11:00"), "dec-02-am", "dec-02-am"),  # running
        (_at(2, "13:30"), "dec-02-pm", "dec-02-am"),  # the first is over: the next one ahead
        (_at(2, "16:00"), "dec-02-pm", "dec-02-pm"),
        (_at(2, "18:00"), "dec-04", "dec-02-pm"),  # today's are over: the next day's exam
        (_at(3, "09:00"), "dec-04", "dec-02-pm"),  # no exam today: the one just over
        (_at(5, "09:00"), None, "dec-04"),  # every exam over
    ],
)
def test_which_exam_is_picked(two_a_day, now, ahead, recorded):
    picked = two_a_day.exam_ahead(now)
    assert (picked.id if picked else None) == ahead
    assert two_a_day.exam_recorded(now).id == recorded


def _days_from_today(days: int) -> str:
    return (datetime.now(MSK).date() + timedelta(days=days)).isoformat()


@pytest.fixture
def past_and_next(site_dir):
    exams = [
        _exam("over", _days_from_today(-2), "10:00"),
        _exam("next", _days_from_today(1), "10:00"),
    ]
    write_site(site_dir, minimal_config(exams=exams))
    return site_dir


def test_a_check_names_the_exam_it_picked(cli, past_and_next):
    result = cli("stations")
    first = result.stderr.splitlines()[0]
    assert first.startswith("Exam next, start ") and ", check deadline " in first
    assert "08:00" in first and "10:00" in first  # the point's local time, the day named


def test_in_russian(cli, past_and_next, monkeypatch):
    monkeypatch.setenv("PPE_LANG", "ru")
    result = cli("stations")
    assert "Экзамен next, начало " in result.stderr and "срок проверки" in result.stderr


def test_a_check_for_an_exam_over_is_warned(cli, past_and_next):
    result = cli("cameras", "verify", "--exam", "over")
    assert "ppe-tech: warning: exam over is over (it ended " in result.stderr
    assert "Exam over, start" not in result.stderr  # chosen by the user: not announced
    # what only reads or documents an exam is not warned: a protocol is often made afterwards
    assert "is over" not in cli("stations", "--exam", "over").stderr


def test_archive_defaults_to_the_exam_just_over(cli, past_and_next, tmp_path):
    result = cli("recordings", "archive", "--to", str(tmp_path / "missing"))
    assert "Missing option" not in result.stderr
    assert result.stderr.splitlines()[0].startswith("Exam over, ")  # its day and its hours
    assert result.exit_code == 2 and "no such folder" in result.stderr
