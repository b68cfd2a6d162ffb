"""Segment index, layouts, container durations, gap finder and coverage on real segments."""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime, timedelta

import pytest

from ppe_tech.recordings.decode import decodable
from ppe_tech.recordings.index import coverage, find_gaps, scan
from ppe_tech.recordings.layout import compile_layout
from ppe_tech.recordings.mp4 import NotMp4, segment_duration
from ppe_tech.store import connect
from tests.conftest import write_site
from tests.recordings.conftest import (
    CORRUPT_ENTRANCE,
    GAP_CORRIDOR,
    WINDOW_END,
    WINDOW_START,
    frigate_path,
    rec_config,
)

FRIGATE = compile_layout("{date}/{hour}/{camera}/{minute}.{second}.mp4")


@pytest.mark.parametrize(
    "pattern, path, camera, start",
    [
        (
            "{date}/{hour}/{camera}/{minute}.{second}.mp4",
            "2026-05-28/07/corridor-1/05.30.mp4",
            "corridor-1",
            datetime(2026, 5, 28, 7, 5, 30, tzinfo=UTC),
        ),
        (
            "{camera}/{date}/{time}.mp4",
            "entrance/2026-05-28/07-05-30.mp4",
            "entrance",
            datetime(2026, 5, 28, 7, 5, 30, tzinfo=UTC),
        ),
        (
            "{camera}/{date}/{time}.mp4",
            "entrance/2026-05-28/070530.mp4",
            "entrance",
            datetime(2026, 5, 28, 7, 5, 30, tzinfo=UTC),
        ),
        (
            "{camera}/{year}{month}{day}/{hour}{minute}{second}.mp4",
            "cam/20260528/070530.mp4",
            "cam",
            datetime(2026, 5, 28, 7, 5, 30, tzinfo=UTC),
        ),
        (
            "{camera}-{epoch}.mp4",
            "cam-1780000000.mp4",
            "cam",
            datetime.fromtimestamp(1780000000, UTC),
        ),
    ],
)
def test_layouts_parse_camera_and_start(pattern, path, camera, start):
    assert compile_layout(pattern).parse(path) == (camera, start)


@pytest.mark.parametrize(
    "path",
    [
        "2026-05-28/07/corridor-1/05.30.mkv",
        "2026-05-28/07/corridor-1/sub/05.30.mp4",
        "2026-13-28/07/corridor-1/05.30.mp4",
        "2026-05-28/25/corridor-1/05.30.mp4",
        "../x/07/c/05.30.mp4",
    ],
)
def test_paths_outside_the_layout_are_ignored(path):
    assert FRIGATE.parse(path) is None


def test_layout_in_local_time_is_converted_to_utc():
    from zoneinfo import ZoneInfo

    parsed = compile_layout("{camera}/{date}/{time}.mp4").parse(
        "c/2026-05-28/10-00-00.mp4", ZoneInfo("Europe/Moscow")
    )
    assert parsed == ("c", datetime(2026, 5, 28, 7, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    "layout, message",
    [
        ("{date}/{hour}/{minute}.{second}.mp4", "no {camera}"),
        ("{camera}/{date}.mp4", "full start time"),
        ("{camera}/{date}/{time}/{nope}.mp4", "unknown placeholder"),
        ("../{camera}/{epoch}.mp4", "relative"),
    ],
)
def test_bad_layout_is_a_config_error(site_dir, cli, layout, message):
    write_site(site_dir, rec_config(site_dir / "rec", recordings={"layout": layout}))
    result = cli("recordings", "status")
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_duration_from_the_container_of_real_segments(segments):
    durations = [segment_duration(p) for p in segments]
    assert all(9.0 <= d <= 11.0 for d in durations), durations
    assert abs(sum(durations) - 60.0) < 2.0  # six 10-s cuts of the real clip
    assert decodable(segments[0]) == (True, "")


def test_truncated_and_garbage_files_are_not_mp4(tmp_path, segments):
    truncated = tmp_path / "t.mp4"
    truncated.write_bytes(segments[0].read_bytes()[: segments[0].stat().st_size // 2])
    garbage = tmp_path / "g.mp4"
    garbage.write_bytes(os.urandom(5000))
    for path in (truncated, garbage):
        with pytest.raises(NotMp4):
            segment_duration(path)
        ok, reason = decodable(path)
        assert not ok and reason


def test_index_finds_planted_gaps_and_the_corrupt_segment(day_root, tmp_path):
    conn = connect(tmp_path / "db.sqlite")
    index = scan(day_root, FRIGATE, conn=conn)
    assert index.cameras() == ["aud-0001", "corridor-1", "entrance"]
    assert index.parsed == sum(len(index.of(c)) for c in index.cameras())
    bad = index.unreadable()
    assert [(s.camera, s.start) for s in bad] == [("entrance", CORRUPT_ENTRANCE)]
    gaps = find_gaps("corridor-1", index.of("corridor-1"), WINDOW_START, WINDOW_END, 2.0)
    assert [(g.start, g.end) for g in gaps] == [GAP_CORRIDOR]
    gaps = find_gaps("entrance", index.of("entrance"), WINDOW_START, WINDOW_END, 2.0)
    assert [(g.start, g.seconds) for g in gaps] == [(CORRUPT_ENTRANCE, 10.0)]
    assert find_gaps("aud-0001", index.of("aud-0001"), WINDOW_START, WINDOW_END, 2.0) == []
    assert coverage(index.of("aud-0001"), WINDOW_START, WINDOW_END) == 1.0
    assert coverage(index.of("corridor-1"), WINDOW_START, WINDOW_END) == pytest.approx(
        330 / 360, abs=0.01
    )
    # a window before the recordings: all one gap, zero coverage
    early = WINDOW_START - timedelta(hours=1)
    assert [
        g.seconds
        for g in find_gaps("x", index.of("aud-0001"), early, early + timedelta(minutes=5), 2.0)
    ] == [300]
    # the second pass reads nothing again: size+mtime cache in the store
    again = scan(day_root, FRIGATE, conn=conn)
    assert again.parsed == 0
    assert again.segments == index.segments


def test_changed_file_is_parsed_again_and_young_file_is_pending(tmp_path, segments):
    root = tmp_path / "root"
    conn = connect(tmp_path / "db.sqlite")
    start = datetime(2026, 5, 28, 7, 0, tzinfo=UTC)
    path = root / frigate_path("cam", start)
    path.parent.mkdir(parents=True)
    shutil.copyfile(segments[0], path)
    now = datetime.now(UTC)
    index = scan(root, FRIGATE, conn=conn, now=now, settle=15)
    assert index.of("cam") == [] and [s.path for s in index.pending] == [frigate_path("cam", start)]
    old = time.time() - 60
    os.utime(path, (old, old))
    assert scan(root, FRIGATE, conn=conn, settle=15).of("cam")[0].ok
    path.write_bytes(b"\0" * 100)  # rewritten: a changed size/mtime is indexed again
    os.utime(path, (old, old))
    (seg,) = scan(root, FRIGATE, conn=conn, settle=15).of("cam")
    assert seg.status == "unreadable"


def test_missing_root_is_a_storage_error(site_dir, cli):
    write_site(site_dir, rec_config(site_dir / "not-mounted"))
    result = cli("recordings", "status")
    assert result.exit_code == 3
    assert "not-mounted" in result.stderr and "Traceback" not in result.stderr


def test_status_json(rec_site, cli):
    import json

    result = cli("recordings", "status", "--exam", "2026-05-28-math", "--json")
    assert result.exit_code == 1, result.stderr  # the window has gaps: something to look at
    data = json.loads(result.stdout)
    rows = {r["camera"]: r for r in data["cameras"]}
    assert set(rows) == {"corridor-1", "entrance", "aud-0001"}
    assert rows["aud-0001"]["coverage"] == 1.0 and rows["aud-0001"]["gaps"] == []
    assert [g["seconds"] for g in rows["corridor-1"]["gaps"]] == [30.0]
    assert rows["entrance"]["unreadable"] == 1
    assert not rows["entrance"]["live"] and rows["entrance"]["age_seconds"] > 86400
    assert data["free_bytes"] > 0
    assert "corridor-1: 1 gap in the exam window, 30 s in all" in data["problems"]
    assert not any(p.startswith("aud-0001") for p in data["problems"])
    human = cli("recordings", "status", "--exam", "2026-05-28-math")
    assert human.exit_code == 1 and "entrance" in human.stdout and "aud-0001" in human.stdout
    assert "problem: corridor-1: 1 gap in" in human.stdout


def test_status_exit_codes(site_dir, day_root, cli):
    import json

    from tests.conftest import write_site
    from tests.recordings.conftest import rec_config

    config = rec_config(day_root, recordings={"min_free": "1K"})
    write_site(site_dir, config)
    quiet = cli("recordings", "status", "--json")  # no exam today: nothing is expected of anyone
    assert quiet.exit_code == 0, quiet.stderr
    assert json.loads(quiet.stdout)["problems"] == []

    low = rec_config(day_root, recordings={"min_free": "900T"})
    write_site(site_dir, low)
    result = cli("recordings", "status", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["problems"] == [
        "recording disk: free space under the alert threshold"
    ]

    started = datetime.now(UTC) - timedelta(minutes=30)
    config["point"]["timezone"] = "UTC"
    config["exams"].append(
        {
            "id": "now",
            "subject": "Physics",
            "date": started.date().isoformat(),
            "start": started.strftime("%H:%M"),
            "duration": "4h",
        }
    )
    write_site(site_dir, config)
    result = cli("recordings", "status", "--exam", "now", "--json")
    assert result.exit_code == 1  # the exam runs and the cameras' segments are days old
    problems = json.loads(result.stdout)["problems"]
    assert any(
        p.startswith("aud-0001: no new segment for") and p.endswith("while the exam runs")
        for p in problems
    ), problems
