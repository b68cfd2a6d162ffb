"""The ``cameras`` checklist probe, the reports' read API, and the demo step."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from ppe_tech.cameras.results import latest_verification
from ppe_tech.site import load_site
from ppe_tech.store import connect
from tests.cameras.conftest import camera
from tests.conftest import minimal_config, write_site

CHECKLIST = """
title: {ru: "Камеры", en: "Cameras"}
sections:
  - id: video
    title: {ru: "Видео", en: "Video"}
    items:
      - id: cameras-picture
        title: {ru: "Камеры", en: "Cameras"}
        severity: critical
        probe: {type: cameras, zone: auditorium, sample: 1s}
        timeout: 40s
"""


@pytest.mark.parametrize(("variant", "status"), [("untouched", "pass"), ("frozen", "fail")])
def test_checklist_probe(site_dir, footage, variant, status):
    from ppe_tech.checklist.model import load_checklist
    from ppe_tech.checklist.runner import run_checklist

    cams = [
        camera("aud-1", str(footage["variants"][variant])),
        camera("gate", "rtsp://127.0.0.1:1/x", zone="entrance"),
    ]
    write_site(site_dir, minimal_config(cameras=cams))
    (site_dir / "references").mkdir()
    (site_dir / "references" / "aud-1.png").write_bytes(footage["reference"].read_bytes())
    (site_dir / "checklists").mkdir()
    (site_dir / "checklists" / "cams.yaml").write_text(CHECKLIST)
    site = load_site(site_dir)
    result = run_checklist(load_checklist("cams", site), site)
    item = result.results[0]
    assert item.status == status, item.message
    assert item.value.startswith(
        f"{1 if status == 'pass' else 0}/1 ok"
    )  # the zone only: not the gate
    if status == "fail":
        assert "aud-1: frozen" in item.message
    stored = latest_verification(connect(site.db_path))
    assert [c["id"] for c in stored["cameras"]] == ["aud-1"]


def test_pre_exam_checklist_has_the_cameras_item():
    import yaml

    from ppe_tech.checklist.probes import PROBE_TYPES
    from ppe_tech.timeutil import parse_duration
    from tests.conftest import REPO

    doc = yaml.safe_load((REPO / "checklists" / "pre-exam.yaml").read_text())
    video = next(s for s in doc["sections"] if s["id"] == "video")
    item = next(i for i in video["items"] if i["id"] == "cameras-picture")
    spec = PROBE_TYPES["cameras"].spec.model_validate(item["probe"])
    assert spec.zone is None and spec.cameras == []  # every camera
    assert item["severity"] == "critical"
    # the item's timeout covers a verification with default timeouts: 5 + 2 x 5 + sample + 7 s
    assert (
        parse_duration(item["timeout"]).total_seconds() >= 5 + 10 + spec.sample.total_seconds() + 7
    )


def test_latest_verification_shape(site_dir, footage):
    from ppe_tech.cameras.verify import run_verification

    write_site(
        site_dir, minimal_config(cameras=[camera("aud-1", str(footage["variants"]["black"]))])
    )
    site = load_site(site_dir)
    conn = connect(site.db_path)
    assert latest_verification(conn) is None
    run_verification(site, conn, exam_id="2026-05-28-math", sample=1.0)
    run_verification(site, conn, sample=1.0)
    latest = latest_verification(conn)
    assert latest["run_id"] == 2 and latest["exam_id"] is None
    of_exam = latest_verification(conn, "2026-05-28-math", folder=site.folder)
    assert of_exam["run_id"] == 1
    assert latest_verification(conn, "other-exam") is None
    cam = of_exam["cameras"][0]
    assert set(cam) >= {"id", "zone", "room", "source", "status", "findings", "snapshot", "metrics"}
    assert cam["status"] == "fail" and cam["findings"][0]["code"] == "black"
    assert {"code", "message"} <= set(cam["findings"][0])
    assert Path(cam["snapshot"]).is_absolute() and Path(cam["snapshot"]).is_file()
    assert cam["metrics"]["width"] == 768
    assert of_exam["started_at"] <= of_exam["finished_at"]


def test_demo_step(tmp_path):
    from ppe_tech.cameras.demo import run
    from ppe_tech.demo import DemoContext, demo_config
    from ppe_tech.timeutil import utc_now

    stub = types.SimpleNamespace(url="http://127.0.0.1:9/", port=9)
    config = demo_config(utc_now(), stub, stub)
    folder = write_site(tmp_path / "demo", config)
    site = load_site(folder)
    demo = DemoContext(
        folder, site, config["exams"][1]["id"], config["exams"][0]["id"], stub, stub, print
    )
    summary = run(demo)
    assert summary.endswith("5 cameras: 4 ok, 1 fail (aud-0002-a: covered)"), summary
    assert len(list((folder / "references").glob("*.png"))) == 5
    assert len(list((folder / "snapshots").glob("cameras-run1-*.jpg"))) == 5
    assert latest_verification(demo.db, demo.exam_id)["run_id"] == 1
