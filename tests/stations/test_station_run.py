"""station enroll -> station run (separate processes, real files) -> station import -> stations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ppe_tech.site import load_site
from ppe_tech.stations.resultfile import SUFFIX, verify_result_file
from ppe_tech.stations.results import list_station_runs
from ppe_tech.store import connect

EXAM = "2026-05-28-math"
COMMON = ["station-identity", "approved-software-only"]
CONFIRMS = {"print": [*COMMON, "test-page"], "scan": [*COMMON, "test-scan"], "auth": COMMON}


def station_run(stick_site: Path, station: str, out: Path, *extra: str):
    """``ppe-tech station run`` in its own process, as on a station (no PPE_SITE there)."""
    env = {k: v for k, v in os.environ.items() if k != "PPE_SITE"}
    argv = [
        sys.executable,
        "-m",
        "ppe_tech",
        "--site",
        str(stick_site),
        "station",
        "run",
        "--station",
        station,
        "--out",
        str(out),
        "--no-input",
    ]
    for item in CONFIRMS[station.split("-")[0]]:
        argv += ["--confirm", item]
    return subprocess.run([*argv, *extra], capture_output=True, text=True, timeout=60, env=env)


@pytest.fixture
def stick(checked_site: Path, tmp_path: Path, cli) -> Path:
    result = cli("station", "enroll", str(tmp_path / "stick"), "--exam", EXAM)
    assert result.exit_code == 0, result.output
    return tmp_path / "stick"


def test_run_on_two_stations_then_import(checked_site: Path, stick: Path, cli):
    results = stick / "results"
    for station in ("print-0001", "print-0002"):
        done = station_run(stick / "ppe-station", station, results)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"{station} (room 00" in done.stdout and ": passed" in done.stdout
    files = sorted(results.glob(f"*{SUFFIX}"))
    assert len(files) == 2
    # the station wrote nothing but its result file: no store, no temp files on the stick
    assert not (stick / "ppe-station" / "ppe.db").exists()
    assert sorted(p.name for p in results.iterdir()) == [f.name for f in files]

    first = cli("station", "import", str(results))
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == "imported 2, already imported 0, refused 0"
    again = cli("station", "import", str(results))
    assert again.stdout.strip() == "imported 0, already imported 2, refused 0"

    site = load_site(checked_site)
    runs = list_station_runs(connect(site.db_path), exam_id=EXAM)
    assert [(r.station_id, r.status, r.how) for r in runs] == [
        ("print-0001", "passed", "station run"),
        ("print-0002", "passed", "station run"),
    ]
    facts = runs[0].machine
    assert facts["host_name"] and facts["os"] and isinstance(facts["macs"], list)
    software = {i.item_id: i for i in runs[0].items}["station-software"]
    assert (software.status, software.value) == ("pass", "26.1.4")


def test_stations_shows_the_point_not_ready(checked_site: Path, stick: Path, cli):
    assert station_run(stick / "ppe-station", "print-0001", stick / "results").returncode == 0
    assert cli("station", "import", str(stick / "results")).exit_code == 0
    result = cli("stations", "--exam", EXAM, "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert not data["ready"]
    states = {s["station_id"]: s["state"] for r in data["rooms"] for s in r["stations"]}
    assert states == {
        "print-0001": "passed",
        "scan-0001": "not-checked",
        "print-0002": "not-checked",
        "auth-main": "not-checked",
    }
    assert data["summary"].startswith(
        "not ready: auditorium 0001: scan station scan-0001 never checked, camera aud-0001-a not-verified"
    )
    table = cli("stations", "--exam", EXAM)
    assert "print station print-0002 never checked" in table.stdout
    assert "auditorium 0002" in table.stdout


def test_a_failed_item_fails_the_run_and_the_file_is_still_written(stick: Path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ppe_tech",
            "--site",
            str(stick / "ppe-station"),
            "station",
            "run",
            "--station",
            "auth-main",
            "--out",
            str(stick / "results"),
            "--no-input",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "not passed: station-identity, approved-software-only" in done.stdout
    assert len(list((stick / "results").glob(f"*{SUFFIX}"))) == 1


def test_run_without_a_stick_key_is_one_line_exit_5(checked_site: Path, tmp_path: Path, cli):
    result = cli("station", "run", "--station", "print-0001", "--out", str(tmp_path / "out"))
    assert result.exit_code == 5
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("ppe-tech: error: no station signing key")
    assert "ppe-tech station enroll" in result.stderr


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["--station", "print-9999"], 2, "unknown station 'print-9999' (known: print-0001,"),
        (
            ["--station", "print-0001", "--confirm", "station-clock"],
            2,
            "answers: item 'station-clock' is automatic (station-print)",
        ),
        (
            ["--station", "print-0001", "--exam", "2026-05-29-physics"],
            5,
            "the stick was enrolled for exam 2026-05-28-math, not 2026-05-29-physics",
        ),
    ],
)
def test_station_run_bad_input(stick: Path, cli, args, code, fragment):
    result = cli(
        "--site",
        str(stick / "ppe-station"),
        "station",
        "run",
        "--out",
        str(stick / "results"),
        "--no-input",
        *args,
    )
    assert result.exit_code == code, result.output
    assert result.stderr.count("\n") == 1 and fragment in result.stderr, result.stderr


def test_verify_is_one_library_call(checked_site: Path, stick: Path):
    station_run(stick / "ppe-station", "print-0001", stick / "results")
    (path,) = (stick / "results").glob(f"*{SUFFIX}")
    result = verify_result_file(load_site(checked_site), path.read_bytes(), exam_id=EXAM)
    assert (result.station_id, result.room, result.role) == ("print-0001", "0001", "print")
    assert result.key_id and len(result.file_sha256 or "") == 64
