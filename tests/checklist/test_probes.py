"""Every probe type against the real thing it checks."""

from __future__ import annotations

import hashlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ppe_tech.checklist.probes.system import USB_DEVICES, usb_ids
from ppe_tech.checklist.runner import run_probe_item
from ppe_tech.demo_services import PortalServer, SntpServer
from ppe_tech.site import load_site


@pytest.fixture
def probe(make_checklist, site_dir):
    """probe({"type": ..., ...}, timeout="5s") -> ItemResult of one real run."""

    def run(spec: dict, timeout: str = "5s", retries: int = 0):
        checklist = make_checklist(
            [{"id": "p", "title": "probe", "probe": spec, "timeout": timeout, "retries": retries}]
        )
        return run_probe_item(checklist.items[0], load_site(site_dir))

    return run


# -- command, software ----------------------------------------------------------------------
def test_command_exit_code_and_output(probe):
    ok = probe(
        {
            "type": "command",
            "argv": [sys.executable, "-c", "print('ready 42')"],
            "stdout": r"ready \d+",
        }
    )
    assert ok.status == "pass", ok
    assert "ready 42" in ok.value
    wrong_exit = probe({"type": "command", "argv": [sys.executable, "-c", "raise SystemExit(3)"]})
    assert wrong_exit.status == "fail" and "exit 3" in wrong_exit.value
    wrong_output = probe(
        {"type": "command", "argv": [sys.executable, "-c", "print('busy')"], "stdout": "ready"}
    )
    assert wrong_output.status == "fail" and wrong_output.message == "output does not match"


def test_command_never_uses_a_shell(probe, tmp_path):
    marker = tmp_path / "pwned"
    result = probe({"type": "command", "argv": f"echo hi; touch {marker}"})
    assert result.status == "pass"  # echo printed its arguments, literally
    assert f"; touch {marker}" in result.value
    assert not marker.exists()


def test_command_missing_program_and_timeout(probe):
    missing = probe({"type": "command", "argv": ["no-such-program-xyz"]})
    assert missing.status == "fail" and "not found" in missing.message
    slow = probe({"type": "command", "argv": ["sleep", "30"]}, timeout="1s")
    assert slow.status in ("fail", "timeout")
    assert slow.duration_ms < 5000


def test_software_version_constraint(probe):
    version = ".".join(map(str, sys.version_info[:3]))
    ok = probe({"type": "software", "argv": [sys.executable, "--version"], "version": ">=3.8"})
    assert ok.status == "pass" and ok.value == version
    old = probe({"type": "software", "argv": [sys.executable, "--version"], "version": ">=99"})
    assert old.status == "fail" and version in old.message


# -- process, port ---------------------------------------------------------------------------


def test_process_probe(probe):
    sleeper = subprocess.Popen(["sleep", "61.2345"])
    try:
        ok = probe({"type": "process", "cmdline": r"sleep 61\.2345"})
        assert ok.status == "pass" and ok.value == "1 running"
        by_name = probe({"type": "process", "name": "sleep", "min_count": 1})
        assert by_name.status == "pass"
    finally:
        sleeper.kill()
        sleeper.wait()
    gone = probe({"type": "process", "cmdline": r"sleep 61\.2345"})
    assert gone.status == "fail" and gone.value == "0 running"


def test_port_listening_locally(probe, refused_port):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        ok = probe({"type": "port", "port": port})
        assert ok.status == "pass" and "127.0.0.1" in ok.value
    closed = probe({"type": "port", "port": refused_port})
    assert closed.status == "fail"


# -- file, disk_free -------------------------------------------------------------------------
def test_file_exists_mode_sha256_age(probe, tmp_path):
    path = tmp_path / "signatures.db"
    path.write_bytes(b"antivirus signatures")
    path.chmod(0o600)
    digest = hashlib.sha256(b"antivirus signatures").hexdigest()
    ok = probe(
        {"type": "file", "path": str(path), "mode": "0600", "sha256": digest, "max_age": "1h"}
    )
    assert ok.status == "pass", ok
    assert probe({"type": "file", "path": str(path), "mode": "0644"}).value == "0600"
    assert (
        probe({"type": "file", "path": str(path), "sha256": "0" * 64}).message == "checksum differs"
    )
    old = time.time() - 3 * 86400
    os.utime(path, (old, old))
    stale = probe({"type": "file", "path": str(path), "max_age": "1d"})
    assert stale.status == "fail" and stale.message == "file too old"
    assert probe({"type": "file", "path": str(tmp_path / "nope")}).status == "fail"
    assert probe({"type": "file", "path": str(tmp_path / "nope"), "exists": False}).status == "pass"


def test_file_relative_to_site(probe, site_dir):
    assert probe({"type": "file", "path": "ppe.yaml"}).status == "pass"


def test_disk_free(probe, tmp_path):
    assert probe({"type": "disk_free", "path": str(tmp_path), "min_free": "1M"}).status == "pass"
    full = probe({"type": "disk_free", "path": str(tmp_path), "min_free": "1000000T"})
    assert full.status == "fail" and "free" in full.value
    assert probe({"type": "disk_free", "path": str(tmp_path), "min_percent": 100}).status == "fail"


# -- tcp, http, dns --------------------------------------------------------------------------
def test_tcp_reachable_and_refused(probe, refused_port):
    with PortalServer() as portal:
        ok = probe({"type": "tcp", "host": "127.0.0.1", "port": portal.port})
        assert ok.status == "pass" and "connected" in ok.value
    refused = probe({"type": "tcp", "host": "127.0.0.1", "port": refused_port})
    assert refused.status == "fail" and "unreachable" in refused.message


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        code = 503 if self.path == "/down" else 200
        body = b"portal OK" if code == 200 else b"maintenance"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_status_and_body(probe, http_server, refused_port):
    assert probe({"type": "http", "url": f"{http_server}/", "body": "portal OK"}).status == "pass"
    down = probe({"type": "http", "url": f"{http_server}/down"})
    assert down.status == "fail" and down.value == "HTTP 503"
    assert probe({"type": "http", "url": f"{http_server}/down", "status": 503}).status == "pass"
    assert probe({"type": "http", "url": f"{http_server}/", "body": "^nothing$"}).status == "fail"
    assert (
        probe({"type": "http", "url": f"http://127.0.0.1:{refused_port}/"}).value == "unreachable"
    )


def test_http_hung_server_is_a_timeout(probe, hung_port):
    began = time.monotonic()
    result = probe({"type": "http", "url": f"http://127.0.0.1:{hung_port}/"}, timeout="1s")
    assert result.status in ("timeout", "fail")
    assert time.monotonic() - began < 4


def test_dns_localhost(probe):
    ok = probe({"type": "dns", "name": "localhost", "expect": ["127.0.0.1"]})
    assert ok.status == "pass" and "127.0.0.1" in ok.value
    assert probe({"type": "dns", "name": "no-such-host.invalid"}).status == "fail"
    assert probe({"type": "dns", "name": "localhost", "expect": ["10.9.9.9"]}).status == "fail"


# -- clock -----------------------------------------------------------------------------------
def test_clock_against_a_real_ntp_answer(probe):
    with SntpServer() as ntp:
        ok = probe({"type": "clock", "server": "127.0.0.1", "port": ntp.port, "max_offset": "1s"})
        assert ok.status == "pass", ok
        assert abs(float(ok.value.split()[1].rstrip("s"))) < 1
    with SntpServer(skew_seconds=-95) as skewed:
        off = probe(
            {"type": "clock", "server": "127.0.0.1", "port": skewed.port, "max_offset": "60s"}
        )
        assert off.status == "fail"
        assert 90 < abs(float(off.value.split()[1].rstrip("s"))) < 100


def test_clock_without_server(probe, refused_port):
    result = probe({"type": "clock", "server": "127.0.0.1", "port": refused_port}, timeout="1s")
    assert result.status in ("fail", "timeout")


# -- printer (CUPS), usb ---------------------------------------------------------------------
def test_printer_states(probe, cups_server):
    spec = {"type": "printer", "queue": "testq", "server": cups_server}
    assert probe(spec).status == "pass"
    subprocess.run(["cupsdisable", "-h", cups_server, "testq"], check=True)
    try:
        paused = probe(spec)
        assert paused.status == "fail" and "disabled" in paused.value
    finally:
        subprocess.run(["cupsenable", "-h", cups_server, "testq"], check=True)
    subprocess.run(["cupsreject", "-h", cups_server, "testq"], check=True)
    try:
        assert "not accepting" in probe(spec).value
    finally:
        subprocess.run(["cupsaccept", "-h", cups_server, "testq"], check=True)
    assert probe({**spec, "queue": "no-such-queue"}).status == "fail"


@pytest.mark.skipif(not USB_DEVICES.is_dir(), reason="this machine exposes no USB bus in /sys")
def test_usb_present_device():
    from ppe_tech.checklist.probes import ProbeContext
    from ppe_tech.checklist.probes.system import UsbSpec, usb

    present = sorted(usb_ids())
    if not present:
        pytest.skip("no USB devices connected to this machine")
    assert usb(UsbSpec(type="usb", id=present[0]), ProbeContext(None, 5)).status == "pass"


def test_usb_absent_device(probe):
    result = probe({"type": "usb", "id": "ffff:fffe"})
    assert result.status == "fail"
    if not USB_DEVICES.is_dir():
        assert "not available" in result.message


def test_retries_until_pass(probe, tmp_path):
    counter = tmp_path / "attempts"
    script = f"import pathlib,sys; p=pathlib.Path({str(counter)!r}); n=int(p.read_text() or 0) if p.exists() else 0; p.write_text(str(n+1)); sys.exit(0 if n >= 2 else 1)"
    result = probe({"type": "command", "argv": [sys.executable, "-c", script]}, retries=3)
    assert result.status == "pass" and result.attempts == 3
    assert Path(counter).read_text() == "3"
