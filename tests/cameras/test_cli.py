"""``ppe-tech cameras ...`` end to end through the CLI: JSON, exit codes, files written, secrets masked."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cameras.conftest import camera
from tests.conftest import minimal_config, write_site

SECRET = "s3cr3t-Pa55"


@pytest.fixture
def cams_site(site_dir: Path, footage):
    """The test site with a good file camera, a covered one and a refused RTSP one with a password."""

    def make(*, refused_port: int | None = None, **extra_cams):
        cams = [
            camera("aud-1", str(footage["variants"]["untouched"]), expect={"fps": 10}),
            camera("aud-2", str(footage["variants"]["covered"]), expect={"fps": 10}),
        ]
        if refused_port:
            cams.append(
                camera(
                    "gate",
                    f"rtsp://admin:${{CAM_PASSWORD}}@127.0.0.1:{refused_port}/live",
                    zone="entrance",
                )
            )
        write_site(site_dir, minimal_config(cameras=cams))
        (site_dir / "references").mkdir(exist_ok=True)
        for cam_id in ("aud-1", "aud-2"):
            (site_dir / "references" / f"{cam_id}.png").write_bytes(
                footage["reference"].read_bytes()
            )
        return site_dir

    return make


def test_verify_json_and_exit_code(cli, cams_site, refused_port, monkeypatch):
    monkeypatch.setenv("CAM_PASSWORD", SECRET)
    site = cams_site(refused_port=refused_port)
    result = cli("cameras", "verify", "--json", "--sample", "1.5")
    assert result.exit_code == 1, result.stderr
    data = json.loads(result.stdout)
    by_id = {c["id"]: c for c in data["cameras"]}
    assert list(by_id) == ["aud-1", "aud-2", "gate"]
    assert by_id["aud-1"]["status"] == "ok" and by_id["aud-1"]["findings"] == []
    assert [f["code"] for f in by_id["aud-2"]["findings"]] == ["covered"]
    assert by_id["aud-2"]["findings"][0]["covered_pct"] > 30
    assert [f["code"] for f in by_id["gate"]["findings"]] == ["unreachable"]
    # one JPEG per camera that delivered a picture, in the site's snapshots/
    for cam_id in ("aud-1", "aud-2"):
        shot = Path(by_id[cam_id]["snapshot"])
        assert shot.parent == site / "snapshots" and shot.read_bytes()[:2] == b"\xff\xd8"
    assert by_id["gate"]["snapshot"] is None
    # the password never shows: output, store
    assert SECRET not in result.stdout + result.stderr
    assert by_id["gate"]["source"] == f"rtsp://admin:***@127.0.0.1:{refused_port}/live"
    dump = "\n".join(sqlite3.connect(site / "ppe.db").iterdump())
    assert SECRET not in dump and "camera_results" in dump


def test_verify_selection_and_show(cli, cams_site, refused_port, monkeypatch):
    monkeypatch.setenv("CAM_PASSWORD", SECRET)
    cams_site(refused_port=refused_port)
    result = cli("cameras", "verify", "--camera", "aud-1", "--sample", "1")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "aud-1" in result.stdout and "aud-2" not in result.stdout and "PASSED" in result.stdout
    result = cli("cameras", "verify", "--zone", "entrance", "--json", "--sample", "1")
    assert result.exit_code == 1
    assert [c["id"] for c in json.loads(result.stdout)["cameras"]] == ["gate"]
    shown = cli("cameras", "show", "--json")
    assert shown.exit_code == 0
    assert json.loads(shown.stdout)["run_id"] == 2
    first = json.loads(cli("cameras", "show", "1", "--json").stdout)
    assert [c["id"] for c in first["cameras"]] == ["aud-1"]
    listed = json.loads(cli("cameras", "list", "--json").stdout)["cameras"]
    assert {c["id"]: c["last_status"] for c in listed} == {
        "aud-1": "ok",
        "aud-2": None,
        "gate": "fail",
    }
    assert listed[0]["reference"].endswith("references/aud-1.png")
    assert SECRET not in cli("cameras", "list").stdout


def test_reference_writes_the_picture(cli, site_dir, footage):
    write_site(
        site_dir, minimal_config(cameras=[camera("aud-1", str(footage["variants"]["untouched"]))])
    )
    result = cli("cameras", "reference", "--camera", "aud-1")
    assert result.exit_code == 0, result.stderr
    png = site_dir / "references" / "aud-1.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "snapshot" in result.stdout and str(png) in result.stdout
    import cv2

    assert cv2.imread(str(png)).shape == (576, 768, 3)
    # with the reference in place, the same camera verifies ok
    verified = json.loads(cli("cameras", "verify", "--json", "--sample", "1").stdout)
    assert verified["cameras"][0]["status"] == "ok", verified["cameras"][0]["findings"]


def test_reference_of_a_dead_camera_fails(cli, site_dir, refused_port):
    write_site(
        site_dir, minimal_config(cameras=[camera("c", f"rtsp://127.0.0.1:{refused_port}/x")])
    )
    result = cli("cameras", "reference")
    assert result.exit_code == 1
    assert "no picture captured" in result.stdout and "refused" in result.stdout
    assert not (site_dir / "references" / "c.png").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("verify", "--camera", "nope"), "unknown camera 'nope'"),
        (("verify", "--sample", "0"), "--sample must be"),
        (("verify", "--zone", "corridor"), "no camera in zone 'corridor'"),
        (("show", "7"), "no camera verification run 7"),
        (("show", "x"), "run must be a number"),
        (("reference", "--camera", "nope"), "unknown camera 'nope'"),
        (("discover", "--timeout", "0"), "--timeout must be"),
        (("discover", "--address", "lo", "--timeout", "0.5"), "not an IPv4 address"),
    ],
)
def test_bad_input_one_line_exit_2(cli, site_dir, footage, args, message):
    write_site(
        site_dir, minimal_config(cameras=[camera("aud-1", str(footage["variants"]["untouched"]))])
    )
    result = cli("cameras", *args)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_no_cameras_and_no_runs(cli):
    result = cli("cameras", "verify")
    assert result.exit_code == 2 and "no cameras in ppe.yaml" in result.stderr
    result = cli("cameras", "show")
    assert result.exit_code == 2 and "no camera verification stored yet" in result.stderr


def test_unknown_threshold_names_the_camera(cli, site_dir):
    write_site(
        site_dir, minimal_config(cameras=[camera("aud-9", "x.mp4", thresholds={"bluriness": 0.3})])
    )
    result = cli("cameras", "list")
    assert result.exit_code == 2
    assert (
        "aud-9" in result.stderr
        and "bluriness" in result.stderr
        and "blurred_ratio" in result.stderr
    )


def test_discover_ends_cleanly_with_no_device(cli):
    """WS-Discovery limited to loopback: nothing answers, the command ends within its timeout."""
    import time

    began = time.monotonic()
    result = cli("cameras", "discover", "--address", "127.0.0.1", "--timeout", "1", "--json")
    assert time.monotonic() - began < 1 + 3
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"devices": []}
    human = cli("cameras", "discover", "--address", "127.0.0.1", "--timeout", "0.5")
    assert "no ONVIF device answered" in human.stdout


def test_verify_records_a_pak_performance_check(cli, cams_site, site_dir):
    journal = pytest.importorskip("ppe_tech.pak.journal")
    cams_site()
    result = cli("cameras", "verify", "--sample", "1")
    assert result.exit_code == 1
    from ppe_tech.store import connect

    rows = journal.list_entries(connect(site_dir / "ppe.db"), action="performance_check")
    assert len(rows) == 1
    assert rows[0]["rooms"] == "Room aud-1, Room aud-2"
    assert "2 cameras: 1 ok, 1 fail (aud-2: covered)" in rows[0]["note"]
