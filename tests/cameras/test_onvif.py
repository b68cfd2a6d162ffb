"""ONVIF stream URIs (``cameras discover``): SOAP with a WS-Security digest, against a loopback
device stand-in that checks the digest itself; a silent or wrong device gives none, in time."""

from __future__ import annotations

import base64
import hashlib
import http.server
import re
import threading
import time

import pytest

from ppe_tech.cameras.discover import stream_uris

USER, PASSWORD = "admin", "onvif-Secret"


class Device(http.server.BaseHTTPRequestHandler):
    """Answers GetCapabilities, GetProfiles (two profiles) and GetStreamUri, if the digest is right."""

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        if not self._authorised(body):
            self._reply(400, "<s:Fault><s:Reason>Sender not authorized</s:Reason></s:Fault>")
            return
        port = self.server.server_address[1]
        if "GetCapabilities" in body:
            self._reply(
                200,
                f"<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media><tt:XAddr>"
                f"http://127.0.0.1:{port}/onvif/media</tt:XAddr></tt:Media></tds:Capabilities>"
                "</tds:GetCapabilitiesResponse>",
            )
        elif "GetProfiles" in body:
            assert self.path == "/onvif/media"
            self._reply(
                200,
                '<trt:GetProfilesResponse><trt:Profiles token="main"/><trt:Profiles token="sub"/>'
                "</trt:GetProfilesResponse>",
            )
        elif "GetStreamUri" in body:
            token = re.search(r"<ProfileToken>(\w+)</ProfileToken>", body).group(1)
            self._reply(
                200,
                f"<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>rtsp://127.0.0.1:554/{token}"
                "</tt:Uri></trt:MediaUri></trt:GetStreamUriResponse>",
            )
        else:
            self._reply(400, "<s:Fault/>")

    def _authorised(self, body: str) -> bool:
        found = {
            k: re.search(rf"<{k}[^>]*>([^<]+)</{k}>", body)
            for k in ("Username", "Password", "Nonce", "Created")
        }
        if not all(found.values()):
            return False
        nonce = base64.b64decode(found["Nonce"].group(1))
        expected = hashlib.sha1(
            nonce + found["Created"].group(1).encode() + PASSWORD.encode()
        ).digest()
        return (
            found["Username"].group(1) == USER
            and base64.b64decode(found["Password"].group(1)) == expected
        )

    def _reply(self, status: int, inner: str) -> None:
        xml = (
            '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" '
            f'xmlns:tt="http://www.onvif.org/ver10/schema"><s:Body>{inner}</s:Body></s:Envelope>'
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/soap+xml")
        self.send_header("Content-Length", str(len(xml)))
        self.end_headers()
        self.wfile.write(xml)

    def log_message(self, *args):
        pass


@pytest.fixture
def device():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Device)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/onvif/device_service"
    server.shutdown()


def test_stream_uris_with_digest(device):
    assert stream_uris(device, USER, PASSWORD, timeout=5) == [
        "rtsp://127.0.0.1:554/main",
        "rtsp://127.0.0.1:554/sub",
    ]


@pytest.mark.parametrize(("user", "password"), [(USER, "wrong"), (None, None)])
def test_refused_credentials_give_none(device, user, password):
    assert stream_uris(device, user, password, timeout=5) == []


def test_silent_device_within_timeout(hung_port, refused_port):
    began = time.monotonic()
    assert (
        stream_uris(
            f"http://127.0.0.1:{hung_port}/onvif/device_service", USER, PASSWORD, timeout=1.0
        )
        == []
    )
    assert time.monotonic() - began < 1.0 + 1.5
    assert stream_uris(f"http://127.0.0.1:{refused_port}/onvif/device_service", timeout=1.0) == []
