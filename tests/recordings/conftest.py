"""Recordings fixtures: real 10-second mp4 segments cut from vtest.avi, laid out like Frigate."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import VTEST, minimal_config, write_site

EXAM = "2026-05-28-math"  # 10:00 Moscow = 07:00 UTC, 4 minutes; margin 1 minute
WINDOW_START = datetime(2026, 5, 28, 6, 59, tzinfo=UTC)
WINDOW_END = datetime(2026, 5, 28, 7, 5, tzinfo=UTC)
DAY_START = datetime(2026, 5, 28, 6, 57, tzinfo=UTC)
DAY_END = datetime(2026, 5, 28, 7, 7, tzinfo=UTC)
CAMERAS = [
    {"id": "corridor-1", "zone": "corridor", "room": "1st floor corridor", "source": "x.mp4"},
    {"id": "entrance", "zone": "entrance", "room": "Main entrance", "source": "y.mp4"},
    {"id": "aud-0001", "zone": "auditorium", "room": "Auditorium 0001", "source": "z.mp4"},
]
GAP_CORRIDOR = (
    datetime(2026, 5, 28, 7, 1, 0, tzinfo=UTC),
    datetime(2026, 5, 28, 7, 1, 30, tzinfo=UTC),
)
CORRUPT_ENTRANCE = datetime(2026, 5, 28, 7, 3, 0, tzinfo=UTC)


def frigate_path(camera: str, start: datetime) -> str:
    return f"{start:%Y-%m-%d}/{start:%H}/{camera}/{start:%M}.{start:%S}.mp4"


@pytest.fixture(scope="session")
def segments(tmp_path_factory) -> list[Path]:
    """vtest.avi cut into real 10-s H.264 mp4 segments (keyframe every second, like a camera)."""
    if not VTEST.is_file():
        pytest.skip(f"fixture footage {VTEST} not found (set PPE_FIXTURES)")
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (Debian package ffmpeg)")
    folder = tmp_path_factory.mktemp("segments")
    source = folder / "vtest.avi"
    shutil.copyfile(VTEST, source)
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            str(source),
            "-t",
            "70",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "32",
            "-g",
            "10",
            "-pix_fmt",
            "yuv420p",
            "-an",
            "-f",
            "segment",
            "-segment_time",
            "10",
            "-reset_timestamps",
            "1",
            str(folder / "seg%02d.mp4"),
        ],
        check=True,
    )
    cut = sorted(folder.glob("seg*.mp4"))
    assert len(cut) >= 6
    return cut[:6]


def build_day(root: Path, segments: list[Path], *, gaps: bool = True) -> dict:
    """A Frigate tree of 10-s segments for CAMERAS over DAY_START..DAY_END; planted faults."""
    written = {}
    moment, i = DAY_START, 0
    while moment < DAY_END:
        for cam in CAMERAS:
            if gaps and cam["id"] == "corridor-1" and GAP_CORRIDOR[0] <= moment < GAP_CORRIDOR[1]:
                continue
            path = root / frigate_path(cam["id"], moment)
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(segments[i % len(segments)], path)
            if gaps and cam["id"] == "entrance" and moment == CORRUPT_ENTRANCE:
                with open(path, "r+b") as fh:  # a corrupt segment: its header zeroed
                    fh.write(b"\0" * 4096)
            written[(cam["id"], moment)] = path
        moment += timedelta(seconds=10)
        i += 1
    old = DAY_END.timestamp()
    for path in written.values():  # closed long ago: not "still being written"
        import os

        os.utime(path, (old, old))
    return written


@pytest.fixture(scope="session")
def day_root(tmp_path_factory, segments) -> Path:
    """A shared, read-only recording root (tests that change files make their own)."""
    root = tmp_path_factory.mktemp("recordings") / "root"
    build_day(root, segments)
    return root


def rec_config(root: Path, **extra) -> dict:
    config = minimal_config(
        exams=[
            {
                "id": EXAM,
                "subject": "Mathematics",
                "date": "2026-05-28",
                "start": "10:00",
                "duration": "4m",
            }
        ],
        cameras=CAMERAS,
        recordings={"root": str(root), "gap_tolerance": "2s", **extra.pop("recordings", {})},
        archive={"target": "archive/", "margin": "1m", **extra.pop("archive", {})},
    )
    config.update(extra)
    return config


@pytest.fixture
def rec_site(site_dir: Path, day_root: Path) -> Path:
    write_site(site_dir, rec_config(day_root))
    return site_dir
