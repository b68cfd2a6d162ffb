"""The recording_live probe of the pre-exam checklist, and the recordings demo step."""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bagit
import pytest

from ppe_tech.checklist.probes import PROBE_TYPES, ProbeContext
from ppe_tech.site import load_site
from tests.conftest import minimal_config, write_site
from tests.recordings.conftest import frigate_path

CAMS = [{"id": c, "zone": "corridor", "source": "x"} for c in ("cam-a", "cam-b")]


def run_probe(site_dir: Path, **params):
    kind = PROBE_TYPES["recording_live"]
    spec = kind.spec.model_validate({"type": "recording_live", **params})
    return kind.run(spec, ProbeContext(load_site(site_dir), timeout=10))


def put(root: Path, segment: Path, camera: str, ended_ago: float) -> None:
    start = datetime.now(UTC) - timedelta(seconds=ended_ago + 10)
    path = root / frigate_path(camera, start)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(segment, path)
    old = time.time() - max(ended_ago, 20)
    os.utime(path, (old, old))


def test_recording_live_passes_and_fails(site_dir, tmp_path, segments):
    from ppe_tech.checklist.probes import ProbeFailed

    root = tmp_path / "root"
    write_site(site_dir, minimal_config(cameras=CAMS, recordings={"root": str(root)}))
    with pytest.raises(ProbeFailed, match="not there"):
        run_probe(site_dir)
    root.mkdir()
    put(root, segments[0], "cam-a", 30)
    put(root, segments[0], "cam-b", 600)
    outcome = run_probe(site_dir, max_age="2m")
    assert (
        outcome.status == "fail" and "cam-b" in outcome.message and "cam-a" not in outcome.message
    )
    assert outcome.value == "1/2 live"
    put(root, segments[1], "cam-b", 25)
    outcome = run_probe(site_dir, max_age="2m")
    assert outcome.status == "pass", outcome.message
    assert run_probe(site_dir, max_age="10s").status == "fail"
    assert run_probe(site_dir, cameras=["cam-c"]).status == "fail"  # never recorded


def test_demo_step(tmp_path):
    """The demo step alone: a day of recordings from the shipped clip, archived and verified, fast and small."""
    import yaml

    from ppe_tech.demo import DemoContext, demo_config
    from ppe_tech.demo_services import PortalServer, SntpServer
    from ppe_tech.recordings.demo import run
    from ppe_tech.timeutil import utc_now

    folder = tmp_path / "demo"
    folder.mkdir()
    with PortalServer() as portal, SntpServer() as ntp:
        config = demo_config(utc_now(), portal, ntp)
        (folder / "ppe.yaml").write_text(
            yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
        )
        site = load_site(folder)
        demo = DemoContext(
            folder, site, config["exams"][1]["id"], config["exams"][0]["id"], portal, ntp, print
        )
        started = time.monotonic()
        summary = run(demo)
        elapsed = time.monotonic() - started
        assert "bag valid" in summary and "corridor-1 10 min" in summary, summary
        assert elapsed < 45
        (bag,) = (folder / "archive").iterdir()
        bagit.Bag(str(bag)).validate()
        used = sum(
            p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.stat().st_nlink == 1
        )
        assert used < 300 * 1024**2
        # the pre-exam recording-live item of the next demo step passes on these recordings
        assert run_probe(folder).status == "pass"
