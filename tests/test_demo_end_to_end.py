"""`ppe-tech demo`: the whole exam day on the embedded demo site, as a user runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from ppe_tech.demo import STEPS, step_labels
from ppe_tech.i18n import current_language, set_language
from tests.conftest import english_left


def _russian_step_labels() -> dict[str, str]:
    before = current_language()
    set_language("ru")
    try:
        return step_labels()
    finally:
        set_language(before)


def run_ppe(
    *args: str, env: dict | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ppe_tech", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_demo_end_to_end(tmp_path: Path):
    folder = tmp_path / "demo"
    done = run_ppe("demo", "--dir", str(folder), env={"PPE_LANG": "ru"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    labels = _russian_step_labels()
    for name, _ in STEPS:
        assert f"  {labels[name]}: " in done.stdout, (name, done.stdout)
    assert (folder / "ppe.yaml").is_file()
    assert f"PPE_SITE={folder} ppe-tech serve" in done.stdout  # how to open the console
    # the demo point is Russian: its log lines and summary are Russian through and through
    # (a report's number, 7701-RDY-2026-0001, is printed so on the Russian form too)
    said = re.sub(r"\b\d{4}-[A-Z]+-\d{4}-\d{4}\b", " ", done.stdout + done.stderr)
    assert english_left(said, folder) == [], done.stdout + done.stderr

    # the demo site is a normal site afterwards
    runs = json.loads(run_ppe("--site", str(folder), "check", "list", "--json").stdout)["runs"]
    assert runs and runs[-1]["timeliness"] == "on time"
    shown = json.loads(run_ppe("--site", str(folder), "check", "show", "latest", "--json").stdout)
    assert {"Staff room", "Video surveillance"} <= {r["section_en"] for r in shown["results"]}


def test_demo_refuses_an_existing_site(tmp_path: Path, site_dir: Path):
    done = run_ppe("demo", "--dir", str(site_dir))
    assert done.returncode == 2
    assert "already exists" in done.stderr and "Traceback" not in done.stderr


def test_demo_timeline_at_every_hour_of_the_day():
    """Yesterday's exam is yesterday at the point whatever the hour (after 21:30 Moscow time
    today's exam moves to tomorrow, and its "yesterday" once fell on today, planted gap and all)."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from ppe_tech.demo import DEMO_TIMEZONE, demo_exams

    point_tz = ZoneInfo(DEMO_TIMEZONE)
    for hour in range(24):
        now = datetime(2026, 12, 4, hour, 17, tzinfo=UTC)
        past, today = demo_exams(now)
        assert past["date"] == now.astimezone(point_tz).date() - timedelta(days=1), now
        start = datetime.combine(today["date"], datetime.strptime(today["start"], "%H:%M").time())
        ahead = start.replace(tzinfo=point_tz) - now
        assert timedelta(hours=2, minutes=25) <= ahead <= timedelta(hours=2, minutes=30), now
