"""A busy checking machine is not a broken camera: judged by the stream's own timestamps.

Every test here runs while CPU hogs the test started keep the cores busy (one per core,
at normal priority: a laptop doing other work). Cameras are served by the real GStreamer
RTSP server: a pre-encoded 1280x720 15 fps H.264 file sent as is (no encoding on the
server), test patterns at 5 fps and with a 2 s pause. Timing bounds are generous; the
figures are in bench/cameras/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ppe_tech.cameras.verify import run_verification
from ppe_tech.store import connect
from tests.cameras.conftest import RtspServer, camera, gst_rtsp_missing, make_site
from tests.conftest import minimal_config, write_site

CORES = os.cpu_count() or 1
HOG = "while True: pass"


class Hogs:
    """CPU hogs: ``n`` busy-looping processes, optionally pinned to ``cpus``; stopped by pid."""

    def __init__(self, n: int, cpus: str | None = None):
        prefix = ["taskset", "-c", cpus] if cpus else []
        self.procs = [subprocess.Popen([*prefix, sys.executable, "-c", HOG]) for _ in range(n)]

    def stop(self) -> None:
        for proc in self.procs:
            proc.kill()
        for proc in self.procs:
            proc.wait()


@pytest.fixture
def busy():
    """One CPU hog per core for the test's duration."""
    hogs = Hogs(CORES)
    yield hogs
    hogs.stop()


@pytest.fixture(scope="module")
def clip720(tmp_path_factory) -> Path:
    """20 s of the real walkway clip as 1280x720 15 fps H.264, a key frame a second (ffmpeg)."""
    from tests.cameras.conftest import HERE

    source = HERE.parents[1] / "ppe_tech" / "demo_data" / "walkway.mp4"
    out = tmp_path_factory.mktemp("clip") / "walkway-720p15.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(source),
            "-t",
            "20",
            "-vf",
            "scale=1280:720,fps=15",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-g",
            "15",
            "-bf",
            "0",
            "-b:v",
            "2M",
            "-an",
            str(out),
        ],
        check=True,
        timeout=120,
    )
    return out


@pytest.fixture(scope="module")
def server(clip720):
    missing = gst_rtsp_missing()
    if missing:
        pytest.skip(missing)
    rtsp = RtspServer(
        {"/h720": f"h264:{clip720}", "/slow": "pattern:smpte:5", "/pause": "pause:1.0:2"}
    )
    yield rtsp
    rtsp.stop()


def _codes(cam: dict) -> list[str]:
    return [f["code"] for f in cam["findings"]]


def test_a_third_of_the_fps_is_low_fps_on_a_busy_machine(tmp_path, server, busy):
    site = make_site(tmp_path / "s", [camera("slow", server.url("/slow"), expect={"fps": 15})])
    cam = run_verification(site, connect(site.db_path), sample=3.0).to_json()["cameras"][0]
    low = next(f for f in cam["findings"] if f["code"] == "low_fps")
    assert 4.0 <= low["fps"] <= 6.0 and low["expected_fps"] == 15, low
    assert cam["status"] == "fail" and cam["metrics"]["clock"] == "pts"


def test_a_two_second_pause_is_stalled_on_a_busy_machine(tmp_path, server, busy):
    site = make_site(tmp_path / "s", [camera("pause", server.url("/pause"), expect={"fps": 10})])
    cam = run_verification(site, connect(site.db_path), sample=4.0).to_json()["cameras"][0]
    stalled = next(f for f in cam["findings"] if f["code"] == "stalled")
    assert 1.7 <= stalled["gap_s"] <= 3.0, stalled  # the camera's own 2 s, not this machine's
    assert "low_fps" not in _codes(cam) or cam["metrics"]["fps"] < 0.75 * 10
    assert "checker_overloaded" not in _codes(cam)


def test_sixteen_healthy_cameras_on_a_busy_machine_have_no_finding(tmp_path, server, busy):
    cams = [
        camera(f"cam{i:02}", server.url("/h720"), expect={"fps": 15, "width": 1280})
        for i in range(16)
    ]
    site = make_site(tmp_path / "s", cams)
    run = run_verification(site, connect(site.db_path), sample=3.0).to_json()
    for cam in run["cameras"]:
        # judged without a reference picture: no_reference is the only finding allowed
        assert _codes(cam) == ["no_reference"], (cam["id"], cam["findings"], cam["metrics"])
        assert 14 <= cam["metrics"]["fps"] <= 16 and cam["metrics"]["stalls"] == 0
        assert cam["metrics"]["analysed_frames"] <= 9  # a handful decoded, not the whole sample
        assert cam["metrics"]["frames_received"] >= 40  # while all of it was received


def test_key_frames_are_decoded_during_the_sample_one_camera_at_a_time(tmp_path, server):
    """``parallel=1``, four H.264 cameras with a key frame a second: each key frame is
    decoded as it arrives, holding the run's one decode slot (spans spread over the
    sample, not bunched after it), and no two cameras ever held the slot at once."""
    cams = [camera(f"cam{i}", server.url("/h720"), expect={"fps": 15}) for i in range(4)]
    site = make_site(tmp_path / "s", cams)
    run = run_verification(site, connect(site.db_path), sample=3.0, parallel=1).to_json()
    spans = []
    for cam in run["cameras"]:
        assert _codes(cam) == ["no_reference"], (cam["id"], cam["findings"])
        held = cam["metrics"]["decode_slot_spans"]
        assert cam["metrics"]["decoded_ahead"] >= 3 and len(held) >= 4, held  # + judgement
        assert held[-2][0] - held[0][0] >= 1.5, held  # while the stream came in
        spans += held
    spans.sort()
    overlaps = [(a, b) for a, b in zip(spans, spans[1:], strict=False) if b[0] < a[1]]
    assert not overlaps, overlaps


def _workers(proc, count: int, timeout: float = 60.0) -> list:
    """The ``count`` camera workers of ``proc`` (grandchildren, via the forkserver), once
    they have had a second to connect and read."""
    import psutil

    deadline = time.monotonic() + timeout
    parent = psutil.Process(proc.pid)
    while time.monotonic() < deadline:
        workers = [p for p in parent.children(recursive=True) if p.ppid() != proc.pid]
        if len(workers) >= count:
            time.sleep(2.0)
            return workers
        time.sleep(0.1)
    raise AssertionError("the camera workers did not start")


def test_a_starved_checker_says_so_and_fails_no_camera(tmp_path, server):
    """The run pinned to one core at the lowest priority; once its cameras are being
    received, four hogs on that core and the workers held off the CPU for 2.5 s (SIGSTOP,
    SIGCONT: what a starved process lives through): the cameras are fine, this machine is
    not. Exit 6 (a warning), never 1."""
    import signal

    cams = [camera(f"cam{i:02}", server.url("/h720"), expect={"fps": 15}) for i in range(8)]
    folder = write_site(tmp_path / "site", minimal_config(cameras=cams))
    command = [
        "taskset",
        "-c",
        "0",
        "nice",
        "-n",
        "19",
        str(Path(sys.executable).parent / "ppe-tech"),
        "--site",
        str(folder),
        "cameras",
        "verify",
        "--json",
        "--sample",
        "6",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        workers = _workers(proc, len(cams))
        hogs = Hogs(4, cpus="0")
        for worker in workers:
            worker.send_signal(signal.SIGSTOP)
        time.sleep(2.5)
        for worker in workers:
            worker.send_signal(signal.SIGCONT)
        time.sleep(4)
        hogs.stop()
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    run = json.loads(stdout)
    busy = [c for c in run["cameras"] if "checker_overloaded" in _codes(c)]
    assert busy, [(c["id"], c["findings"]) for c in run["cameras"]]
    for cam in run["cameras"]:
        assert cam["status"] != "fail", (cam["id"], cam["findings"])
    found = next(f for c in busy for f in c["findings"] if f["code"] == "checker_overloaded")
    assert found["severity"] == "warning", found
    assert len(busy) >= len(cams) // 2  # held off the CPU, every worker fell behind
    assert all(14 <= c["metrics"]["fps"] <= 16 for c in busy if "fps" in c["metrics"])
    assert proc.returncode == 6, stderr
    assert f"this machine was too busy to judge {len(busy)} camera" in stderr
    assert "cameras.parallel" in stderr and stderr.count("\n") == 1
