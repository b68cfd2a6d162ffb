"""``site show`` writes durations, sizes and times as ppe.yaml does (``3h55m``, ``2G``), so what
it prints loads again as the same config; ``init`` and ``site show`` speak Russian (issue 15)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from ppe_tech.site import duration_notation, load_site, size_notation
from ppe_tech.timeutil import parse_duration
from tests.conftest import english_left, minimal_config, ru_run, write_site


def test_site_show_prints_what_ppe_yaml_says_and_loads_again(cli, site_dir: Path, tmp_path):
    config = minimal_config(
        cameras={
            "sample": "1500ms",
            "list": [{"id": "c1", "zone": "corridor", "source": "c1.mp4", "read_timeout": "8s"}],
        },
        recordings={"min_free": "2G", "stall": "90s"},
        archive={"margin": "30m"},
        checks={"deadline_before": "2h"},
    )
    write_site(site_dir, config)
    shown = cli("site", "show")
    assert shown.exit_code == 0, shown.output
    printed = yaml.safe_load(shown.stdout)
    assert printed["exams"][0]["duration"] == "3h55m" and printed["exams"][0]["start"] == "10:00"
    assert printed["recordings"]["min_free"] == "2G" and printed["recordings"]["stall"] == "1m30s"
    assert printed["archive"]["margin"] == "30m"
    assert printed["camera_settings"]["sample"] == "1500ms"
    assert printed["cameras"][0]["read_timeout"] == "8s"
    assert "PT3H55M" not in shown.stdout and "2147483648" not in shown.stdout
    again = tmp_path / "again"
    again.mkdir()
    (again / "ppe.yaml").write_text(shown.stdout, encoding="utf-8")
    assert load_site(again).config == load_site(site_dir).config


def test_json_keeps_the_machine_form(cli, site_dir: Path):
    write_site(site_dir, minimal_config(recordings={"min_free": "2G"}))
    data = yaml.safe_load(cli("site", "show", "--json").stdout)
    assert data["config"]["exams"][0]["duration"] == "PT3H55M"
    assert data["config"]["recordings"]["min_free"] == 2 * 1024**3


@pytest.mark.parametrize(
    "delta",
    [timedelta(hours=3, minutes=55), timedelta(milliseconds=250), timedelta(0), timedelta(days=2)],
)
def test_a_duration_notation_reads_back(delta: timedelta):
    assert parse_duration(duration_notation(delta)) == delta


@pytest.mark.parametrize("size", [0, 1000, 2 * 1024**3, 1536 * 1024**2, 10 * 1024**4, 1025])
def test_a_size_notation_reads_back(size: int):
    from ppe_tech.fsutil import parse_size

    assert parse_size(size_notation(size)) == size


def test_site_show_and_init_speak_russian(demo_ru: Path, tmp_path: Path):
    shown = ru_run(demo_ru, "site", "show")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"# папка пункта: {demo_ru}\n")
    assert "ppe.yaml:37: у аудитории 0003 нет камеры" in shown.stderr
    # the YAML itself is ppe.yaml's own words (keys and codes); what is said around it is not
    said = [line for line in shown.stdout.splitlines() if line.startswith("#")]
    stderr = shown.stderr.replace("ppe-tech: warning: ", "")  # the prefix: the check group's
    assert english_left("\n".join([*said, stderr]), demo_ru) == []
    made = ru_run(demo_ru, "init", str(tmp_path / "new"))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("записан ") and "отредактируйте его" in made.stdout
    assert english_left(made.stdout + made.stderr, demo_ru) == []
    again = ru_run(demo_ru, "init", str(tmp_path / "new"))
    assert again.returncode == 2 and "уже есть; не перезаписываю" in again.stderr
