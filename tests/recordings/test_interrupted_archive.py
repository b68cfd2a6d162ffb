"""Ctrl-C in ``recordings archive`` says how to go on (issue 15 item 9): a real SIGINT to a real
run mid-way; it exits 130 naming what is done and the hidden partial bag, and the same command
resumes from there."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bagit

from ppe_tech.fsutil import format_size
from tests.conftest import REPO, english_left, minimal_config, write_site
from tests.recordings.conftest import frigate_path

CAMERAS = [f"corridor-{n}" for n in range(1, 11)]
START = datetime(2026, 5, 28, 6, 58, tzinfo=UTC)  # 10:00 Moscow is 07:00 UTC; margin 1 minute
END = datetime(2026, 5, 28, 7, 22, tzinfo=UTC)


def _big_day(root: Path, segment: Path) -> int:
    """Ten corridor cameras over a 20-minute exam: 1,300-odd real segments, hard links of one."""
    closed = END.timestamp()
    os.utime(segment, (closed, closed))  # long closed: none is still being written
    count, moment = 0, START
    while moment < END:
        for camera in CAMERAS:
            path = root / frigate_path(camera, moment)
            path.parent.mkdir(parents=True, exist_ok=True)
            os.link(segment, path)
            count += 1
        moment += timedelta(seconds=10)
    return count


def _journal(target: Path) -> list[dict]:
    """The files the partial bag's journal lists as finished."""
    (partial,) = target.glob(".*.partial")
    lines = (partial / ".ppe-archive.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [r for r in rows if "sha256" in r]


def test_ctrl_c_says_what_is_done_and_the_same_command_resumes(
    site_dir: Path, tmp_path: Path, segments
):
    segment = tmp_path / "segment.mp4"
    segment.write_bytes(segments[0].read_bytes())
    _big_day(tmp_path / "root", segment)
    config = minimal_config(
        exams=[
            {
                "id": "2026-05-28-math",
                "subject": "Mathematics",
                "date": "2026-05-28",
                "start": "10:00",
                "duration": "20m",
            }
        ],
        cameras=[{"id": c, "zone": "corridor", "source": "x.mp4"} for c in CAMERAS],
        recordings={"root": str(tmp_path / "root"), "gap_tolerance": "2s"},
        archive={"margin": "1m"},
    )
    config["point"]["language"] = "ru"
    write_site(site_dir, config)
    target = tmp_path / "stick"
    target.mkdir()
    argv = [sys.executable, "-m", "ppe_tech", "--site", str(site_dir), "recordings", "archive"]
    argv += ["--exam", "2026-05-28-math", "--to", str(target)]
    env = {k: v for k, v in os.environ.items() if k not in ("PPE_SITE", "PPE_LANG")}
    env["PYTHONPATH"] = str(REPO)
    child = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while child.poll() is None and time.monotonic() < deadline:  # mid-way: a batch is durable
        if any(target.glob(".*.partial/.ppe-archive.jsonl")) and _journal(target):
            break
        time.sleep(0.02)
    child.send_signal(signal.SIGINT)
    out, err = (s.decode() for s in child.communicate(timeout=120))
    assert child.returncode == 130, (out, err)
    assert not [p for p in target.iterdir() if not p.name.startswith(".")]  # no final bag
    (partial,) = target.glob(".*.partial")
    done = _journal(target)
    assert english_left(out + err, site_dir) == [], err

    again = subprocess.run([*argv, "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert 0 < len(done) < data["file_count"], "the run was not interrupted mid-way"
    said = (
        "ppe-tech: прервано: запустите ту же команду снова, чтобы продолжить "
        f"(готово {format_size(sum(d['size'] for d in done))} из "
        f"{format_size(data['total_bytes'])}); незавершённый архив сохранён в {partial}"
    )
    assert said in err.replace("\n", ""), err
    assert data["reused_files"] == len(done)  # what was done is kept, not copied again
    bagit.Bag(data["bag_path"]).validate()
