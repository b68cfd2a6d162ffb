"""Issue 10 item 3: the RTSP pre-check sends no credentials unasked.

A loopback RTSP responder records every request it gets and answers DESCRIBE with a 401
challenge of the schemes it is told to offer (then 200, or 401 again for a wrong password).
The pre-check must send its first request without ``Authorization``, answer a Digest
challenge with a correct Digest response (the password never on the wire), use Basic only
when it is the only scheme offered, and say which in the result's metrics.
"""

from __future__ import annotations

import base64
import hashlib
import re
import socket
import threading
import time

import pytest

from ppe_tech.cameras.sources import precheck
from ppe_tech.cameras.verify import run_verification
from ppe_tech.store import connect
from tests.cameras.conftest import camera, make_site

USER, PASSWORD = "viewer", "Pa55-w0rd@cam"
REALM, NONCE = "IP Camera", "5f1e2d3c4b5a"


class Responder:
    """An RTSP server on 127.0.0.1 that records requests; ``offers``: the WWW-Authenticate
    values of its 401; ``password``: the one it accepts (Digest checked for real)."""

    def __init__(self, offers: list[str], password: str = PASSWORD):
        self.offers, self.password = offers, password
        self.requests: list[str] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                text = data.decode("latin-1")
                self.requests.append(text)
                conn.sendall(self._answer(text).encode())

    def _valid(self, request: str) -> bool:
        auth = re.search(r"^Authorization: (.*)$", request, re.M)
        if not auth:
            return False
        value = auth.group(1).strip()
        if value.startswith("Basic "):
            return base64.b64decode(value[6:]).decode() == f"{USER}:{self.password}"
        fields = dict(re.findall(r'(\w+)="?([^",]*)"?', value[7:]))
        md5 = lambda t: hashlib.md5(t.encode()).hexdigest()  # noqa: E731
        ha1, ha2 = md5(f"{USER}:{REALM}:{self.password}"), md5(f"DESCRIBE:{fields.get('uri')}")
        if fields.get("qop") == "auth":
            want = md5(f"{ha1}:{NONCE}:{fields['nc']}:{fields['cnonce']}:auth:{ha2}")
        else:
            want = md5(f"{ha1}:{NONCE}:{ha2}")
        return fields.get("response") == want and fields.get("username") == USER

    def _answer(self, request: str) -> str:
        cseq = re.search(r"CSeq: (\d+)", request).group(1)
        if self._valid(request):
            return f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n"
        offers = "".join(f"WWW-Authenticate: {o}\r\n" for o in self.offers)
        return f"RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\n{offers}\r\n"

    def url(self, password: str = PASSWORD) -> str:
        return f"rtsp://{USER}:{password.replace('@', '%40')}@127.0.0.1:{self.port}/stream1"

    def close(self) -> None:
        self.sock.close()


DIGEST = f'Digest realm="{REALM}", nonce="{NONCE}"'
DIGEST_QOP = f'Digest realm="{REALM}", nonce="{NONCE}", qop="auth", algorithm=MD5'
BASIC = f'Basic realm="{REALM}"'


@pytest.fixture
def responder():
    made = []

    def make(offers, password=PASSWORD):
        made.append(Responder(offers, password))
        return made[-1]

    yield make
    for r in made:
        r.close()


def _leaks(requests: list[str]) -> bool:
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return any(PASSWORD in r or token in r for r in requests)


@pytest.mark.parametrize("offers", [[BASIC, DIGEST], [DIGEST], [DIGEST_QOP, BASIC]])
def test_digest_when_offered_and_nothing_unasked(responder, offers):
    server = responder(offers)
    began = time.monotonic()
    check = precheck(server.url(), timeout=3)
    assert time.monotonic() - began < 3
    assert check.ok and check.status == 200 and check.auth == "digest", check
    assert len(server.requests) == 2
    assert "Authorization" not in server.requests[0]  # the first DESCRIBE asks nothing
    assert "Authorization: Digest " in server.requests[1]
    assert not _leaks(server.requests)
    assert check.metrics()["auth"] == "digest"


def test_basic_only_when_it_is_the_only_scheme(responder):
    server = responder([BASIC])
    check = precheck(server.url(), timeout=3)
    assert check.ok and check.auth == "basic", check
    assert "Authorization" not in server.requests[0]
    assert "Authorization: Basic " in server.requests[1]
    metrics = check.metrics()
    assert metrics["auth"] == "basic" and "only Basic" in metrics["auth_note"]


def test_no_challenge_no_credentials(responder):
    server = responder([DIGEST])
    server._valid = lambda request: True  # an open camera: 200 at once
    check = precheck(server.url(), timeout=3)
    assert check.ok and check.auth is None and len(server.requests) == 1
    assert not any("Authorization" in r for r in server.requests)


def test_wrong_password_is_a_finding_with_the_scheme(responder, tmp_path):
    """A wrong password: the camera's finding says 401 and names the scheme used; the
    password is in no output and no stored row."""
    server = responder([DIGEST], password="another")
    site = make_site(tmp_path / "s", [camera("gate", server.url(), open_timeout="3s")])
    run = run_verification(site, connect(site.db_path), sample=1.0).to_json()
    found = run["cameras"][0]["findings"][0]
    assert found["code"] == "unreachable" and "401" in found["message"], found
    assert found["auth"] == "digest"
    assert "Authorization: Digest " in server.requests[1] and not _leaks(server.requests)
    dump = "\n".join(connect(site.db_path).iterdump())
    assert PASSWORD not in str(run) and PASSWORD not in dump
