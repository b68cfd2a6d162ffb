"""Broken cameras: each gets its own finding within its time bound, and none slows the others."""

from __future__ import annotations

import time

import pytest

from ppe_tech.cameras import verify as verify_module
from ppe_tech.cameras.verify import hard_limit, run_verification
from ppe_tech.store import connect
from tests.cameras.conftest import camera, make_site

OPEN, READ, SAMPLE = 2.0, 2.0, 2.0
MARGIN = 2.5  # process start and scheduling on a shared 2-core machine


@pytest.fixture(scope="module")
def broken(tmp_path_factory, rtsp, hung_port, footage):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        refused = s.getsockname()[1]
    timeouts = {"open_timeout": f"{OPEN}s", "read_timeout": f"{READ}s"}
    cams = [
        camera("good", rtsp.url("/walk"), expect={"fps": 10}, **timeouts),
        camera("hung", f"rtsp://127.0.0.1:{hung_port}/stream", **timeouts),
        camera("refused", f"rtsp://127.0.0.1:{refused}/stream", **timeouts),
        camera("missing", rtsp.url("/no/such/path"), **timeouts),
        camera("stall", rtsp.url("/stall"), expect={"fps": 10}, **timeouts),
        camera("slow", rtsp.url("/slow"), expect={"fps": 10}, **timeouts),
        camera("hung-http", f"http://127.0.0.1:{hung_port}/mjpeg", **timeouts),
        camera("no-file", "cameras/none.mp4", **timeouts),
    ]
    site = make_site(tmp_path_factory.mktemp("site"), cams, {"good": footage["reference"]})
    began = time.monotonic()
    run = run_verification(site, connect(site.db_path), sample=SAMPLE).to_json()
    wall = time.monotonic() - began
    return {c["id"]: c for c in run["cameras"]}, wall


def _codes(result):
    return [f["code"] for f in result["findings"]]


@pytest.mark.parametrize(
    ("cam_id", "code", "bound"),
    [
        ("hung", "timeout", OPEN),  # accepts TCP, never answers: the open timeout
        ("hung-http", "timeout", OPEN),
        ("refused", "unreachable", 0.5),
        ("missing", "unreachable", 0.5),  # RTSP 404
        ("no-file", "unreachable", 0.5),
        ("stall", "stalled", OPEN + 0.5 + SAMPLE + READ),  # stops 1.5 s in: the read timeout
        ("slow", "low_fps", OPEN + 0.5 + SAMPLE + READ),
    ],
)
def test_failure_found_within_its_bound(broken, cam_id, code, bound):
    results, _ = broken
    result = results[cam_id]
    assert code in _codes(result), result["findings"]
    assert result["status"] == "fail"
    assert result["duration_ms"] / 1000 <= bound + MARGIN, (cam_id, result["duration_ms"])


def test_finding_details(broken):
    results, _ = broken
    missing = results["missing"]["findings"][0]
    assert missing["status"] == 404 and "404" in missing["message"]
    assert "refused" in results["refused"]["findings"][0]["message"]
    stall = next(f for f in results["stall"]["findings"] if f["code"] == "stalled")
    assert stall["gap_s"] >= READ * 0.9
    slow = next(f for f in results["slow"]["findings"] if f["code"] == "low_fps")
    assert 1.0 <= slow["fps"] <= 3.0 and slow["expected_fps"] == 10


def test_broken_cameras_do_not_slow_the_good_one(broken):
    results, wall = broken
    good = results["good"]
    assert good["status"] == "ok", good["findings"]
    # the good camera takes its own open + sample, not the hung cameras' timeouts
    assert good["duration_ms"] / 1000 <= 0.5 + SAMPLE + 1.5 + MARGIN
    # the whole run is bounded by the slowest camera, not their sum
    assert wall <= OPEN + 0.5 + SAMPLE + READ + MARGIN + 2


def test_hard_bound_kills_a_capture(tmp_path, footage, monkeypatch):
    """A capture that outlives its hard limit is killed and reported as a timeout."""
    monkeypatch.setattr(verify_module, "ANALYSIS_ALLOWANCE_S", 0.0)
    cams = [
        camera(
            "cam", str(footage["variants"]["untouched"]), open_timeout="0.2s", read_timeout="0.2s"
        )
    ]
    site = make_site(tmp_path / "s", cams)
    job = verify_module.camera_job(site, site.config.cameras[0], 5.0)
    monkeypatch.setattr(verify_module, "hard_limit", lambda job: 1.0)
    began = time.monotonic()
    run = run_verification(site, connect(site.db_path), sample=5.0).to_json()
    took = time.monotonic() - began
    cam = run["cameras"][0]
    assert _codes(cam) == ["timeout"] and "capture stopped" in cam["findings"][0]["message"]
    assert took < 1.0 + MARGIN
    assert hard_limit(job) > 5.0  # the real limit covers open, reads and the sample


def test_ffmpeg_error_text_reported_and_masked(tmp_path, monkeypatch):
    """A camera that passes the quick check, then answers FFmpeg with 404: FFmpeg's own error
    line is in the finding, and the password of the URL is nowhere in it."""
    import http.server

    calls = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            calls.append(self.path)
            self.send_response(200 if len(calls) == 1 else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("MJPEG_PASSWORD", "hunter2-secret")
    try:
        url = f"http://admin:${{MJPEG_PASSWORD}}@127.0.0.1:{server.server_address[1]}/video.mjpg"
        site = make_site(
            tmp_path / "s", [camera("mjpeg", url, open_timeout="3s", read_timeout="2s")]
        )
        run = run_verification(site, connect(site.db_path), sample=1.0).to_json()
    finally:
        server.shutdown()
    cam = run["cameras"][0]
    finding = cam["findings"][0]
    assert finding["code"] == "unreachable"
    assert (
        finding["message"].startswith("the stream could not be opened: ")
        and "404" in finding["message"]
    )
    assert "hunter2-secret" not in str(run)
    assert cam["source"].startswith("http://admin:***@127.0.0.1:")


def test_http_mjpeg_camera(tmp_path, footage):
    """An HTTP MJPEG camera (multipart/x-mixed-replace JPEGs, 10 a second) of the real footage."""
    import http.server
    import threading

    import cv2

    from ppe_tech.cameras.footage import read_frames

    frames, _ = read_frames(footage["variants"]["untouched"], 6.0)
    jpegs = [cv2.imencode(".jpg", f)[1].tobytes() for f in frames]

    class Mjpeg(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            try:
                for i in range(600):
                    jpeg = jpegs[i % len(jpegs)]
                    self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n")
                    self.wfile.write(
                        f"Content-Length: {len(jpeg)}\r\n\r\n".encode() + jpeg + b"\r\n"
                    )
                    time.sleep(0.1)
            except OSError:
                pass

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Mjpeg)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/video.mjpg"
        cams = [camera("mjpeg", url, expect={"fps": 10, "width": 768, "height": 576})]
        site = make_site(tmp_path / "s", cams, {"mjpeg": footage["reference"]})
        run = run_verification(site, connect(site.db_path), sample=2.0).to_json()
    finally:
        server.shutdown()
    cam = run["cameras"][0]
    assert cam["status"] == "ok", cam["findings"]
    assert 8 <= cam["metrics"]["fps"] <= 12, cam["metrics"]
    assert cam["duration_ms"] / 1000 <= 0.5 + 2.0 + MARGIN + 1, cam["duration_ms"]
