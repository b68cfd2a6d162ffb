"""The camera grid's live parts: verify from the page, the periodic light check finding an
offline camera (real capture processes on the demo's footage and a refused RTSP port)."""

from __future__ import annotations

import sqlite3
import time

import yaml

from tests.console.conftest import csrf_of, make_client


def count(site, sql: str) -> int:
    with sqlite3.connect(site.db_path) as conn:
        return conn.execute(sql).fetchone()[0]


def test_verify_one_camera_from_the_page_with_progress(client, demo_site):
    runs, entries = (
        count(demo_site, f"SELECT count(*) FROM {t}") for t in ("camera_runs", "pak_entries")
    )
    token = csrf_of(client)
    refused = client.post("/cameras/verify", data={"csrf": token, "camera": "no-such-camera"})
    assert refused.status_code == 400 and "unknown camera" in refused.text
    assert (
        client.post("/cameras/verify", data={"csrf": token, "camera": "aud-0001-a"}).status_code
        == 200
    )
    deadline = time.monotonic() + 60
    while "run " not in (progress := client.get("/cameras/progress").text):
        assert time.monotonic() < deadline, progress
        time.sleep(0.3)
    assert "1/1" in progress
    assert count(demo_site, "SELECT count(*) FROM camera_runs") == runs + 1
    assert (
        count(demo_site, "SELECT count(*) FROM pak_entries") == entries + 1
    )  # a performance check, as the CLI writes


def test_light_check_flags_an_offline_camera_and_keeps_its_last_picture(demo_dir, refused_port):
    from ppe_tech.console.pages import camera_tiles
    from ppe_tech.site import load_site

    config = yaml.safe_load((demo_dir / "ppe.yaml").read_text())
    config["cameras"][0]["source"] = f"rtsp://127.0.0.1:{refused_port}/stream"
    (demo_dir / "ppe.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    client = make_client(load_site(demo_dir))
    console = client.app.state.console
    console.looks.check_now()
    offline = [a for a in console.hub.since(0) if a.kind == "camera_offline"]
    assert [a.camera for a in offline] == ["aud-0001-a"]
    tiles = {t["id"]: t for t in camera_tiles(console)}
    gone, fine = tiles["aud-0001-a"], tiles["aud-0002-a"]
    assert gone["status"] == "fail" and gone["findings"][0]["code"] == "unreachable"
    assert gone["picture_at"] < gone["checked_at"]  # the last picture keeps its own, older time
    assert fine["picture_at"] == fine["checked_at"]  # a fresh picture from the light check
    console.looks.check_now()  # still offline: no second alert
    assert len([a for a in console.hub.since(0) if a.kind == "camera_offline"]) == 1
