"""Camera sources: what kind a ppe.yaml ``source`` is, and a quick network pre-check.

The pre-check tells apart what OpenCV reports only as "could not open": a refused
port, a host that accepts TCP and never answers, and an RTSP/HTTP error status
(404: wrong path; 401: wrong password). It speaks just enough RTSP (DESCRIBE) or
HTTP (GET) to read the response head, within the camera's open timeout. Credentials
are sent only when the camera asks (a 401 challenge): Digest when offered, Basic only
when it is the only scheme (the result's ``auth`` says which).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from ppe_tech.cameras.findings import say

DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}


def source_kind(source: str) -> str:
    """rtsp | http | device | file."""
    scheme = source.split("://", 1)[0].lower() if "://" in source else ""
    if scheme in ("rtsp", "rtsps"):
        return "rtsp"
    if scheme in ("http", "https"):
        return "http"
    if re.fullmatch(r"\d+|/dev/video\d+", source):
        return "device"
    return "file"


@dataclass
class Precheck:
    ok: bool
    code: str | None = None  # unreachable | timeout when not ok
    message: str = ""
    status: int | None = None  # RTSP/HTTP status code when one came back
    connect_ms: float | None = None
    auth: str | None = None  # the scheme credentials were sent with after a 401: digest | basic

    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.connect_ms is not None:
            out["tcp_connect_ms"] = round(self.connect_ms)
        if self.status is not None:
            out["status"] = self.status
        if self.auth is not None:
            out["auth"] = self.auth
            if self.auth == "basic":
                out["auth_note"] = (
                    "the camera offers only Basic: the password crosses the network in clear"
                )
        return out


@dataclass
class _Answer:
    status: int
    reason: str
    protocol: str
    challenges: dict[str, dict[str, str]]  # scheme (lower case) -> its parameters


class _Failed(Exception):
    def __init__(self, check: Precheck):
        self.check = check


_CHALLENGE = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')


def _challenges(head: str) -> dict[str, dict[str, str]]:
    """WWW-Authenticate headers of a response head, by scheme."""
    found: dict[str, dict[str, str]] = {}
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() != "www-authenticate":
            continue
        scheme, _, params = value.strip().partition(" ")
        found[scheme.lower()] = {k.lower(): q or b for k, q, b in _CHALLENGE.findall(params)}
    return found


def digest_authorization(
    challenge: dict[str, str], *, user: str, password: str, method: str, uri: str
) -> str:
    """The ``Authorization: Digest ...`` value answering ``challenge`` (RFC 2617 / 7616)."""
    algorithm = challenge.get("algorithm", "MD5")
    name = "sha256" if algorithm.upper().startswith("SHA-256") else "md5"

    def h(text: str) -> str:
        return hashlib.new(name, text.encode()).hexdigest()

    realm, nonce = challenge.get("realm", ""), challenge.get("nonce", "")
    ha1, ha2 = h(f"{user}:{realm}:{password}"), h(f"{method}:{uri}")
    fields = {"username": user, "realm": realm, "nonce": nonce, "uri": uri}
    if "auth" in [q.strip() for q in challenge.get("qop", "").split(",")]:
        cnonce, nc = secrets.token_hex(8), "00000001"
        fields["response"] = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        extra = f', qop=auth, nc={nc}, cnonce="{cnonce}"'
    else:
        fields["response"] = h(f"{ha1}:{nonce}:{ha2}")
        extra = ""
    if "opaque" in challenge:
        fields["opaque"] = challenge["opaque"]
    quoted = ", ".join(f'{k}="{v}"' for k, v in fields.items())
    return f"Digest {quoted}, algorithm={algorithm}{extra}"


class _Probe:
    """One RTSP DESCRIBE / HTTP GET conversation with a camera, within one deadline."""

    def __init__(self, url: str, timeout: float):
        parts = urlsplit(url)
        self.scheme = parts.scheme.lower()
        self.host, self.port = (
            parts.hostname or "",
            parts.port or DEFAULT_PORTS.get(self.scheme, 554),
        )
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.netloc = self.host if parts.port is None else f"{self.host}:{self.port}"
        self.user = unquote(parts.username) if parts.username is not None else None
        self.password = unquote(parts.password or "")
        self.timeout, self.deadline = timeout, time.monotonic() + timeout
        self.connect_ms: float | None = None
        self.cseq = 0

    @property
    def method(self) -> str:
        return "DESCRIBE" if self.scheme == "rtsp" else "GET"

    @property
    def uri(self) -> str:
        return f"rtsp://{self.netloc}{self.path}" if self.scheme == "rtsp" else self.path

    def _fail(self, code: str, message: str) -> _Failed:
        return _Failed(Precheck(False, code, message, connect_ms=self.connect_ms))

    def connect(self) -> socket.socket:
        began = time.monotonic()
        where = f"{self.host}:{self.port}"
        try:
            sock = socket.create_connection(
                (self.host, self.port), timeout=max(0.05, self.deadline - began)
            )
        except ConnectionRefusedError:
            raise self._fail("unreachable", say("refused", where=where)) from None
        except TimeoutError:
            raise self._fail(
                "timeout", say("no_tcp", where=where, seconds=f"{self.timeout:g}")
            ) from None
        except socket.gaierror as exc:
            raise self._fail(
                "unreachable", say("unknown_host", host=self.host, error=exc.strerror)
            ) from None
        except OSError as exc:
            raise self._fail(
                "unreachable", say("host_unreachable", where=where, error=exc.strerror or exc)
            ) from None
        if self.connect_ms is None:
            self.connect_ms = 1000 * (time.monotonic() - began)
        return sock

    def request(self, authorization: str | None) -> bytes:
        self.cseq += 1
        auth = f"Authorization: {authorization}\r\n" if authorization else ""
        if self.scheme == "rtsp":
            return (
                f"DESCRIBE {self.uri} RTSP/1.0\r\nCSeq: {self.cseq}\r\nAccept: application/sdp\r\n"
                f"User-Agent: ppe-tech\r\n{auth}\r\n"
            ).encode()
        return f"GET {self.path} HTTP/1.0\r\nHost: {self.netloc}\r\nUser-Agent: ppe-tech\r\n{auth}\r\n".encode()

    def ask(self, authorization: str | None = None) -> _Answer:
        """Send one request on a new connection and read the response head."""
        where = f"{self.host}:{self.port}"
        with self.connect() as sock:
            try:
                sock.settimeout(max(0.05, self.deadline - time.monotonic()))
                sock.sendall(self.request(authorization))
                data = b""
                while b"\r\n\r\n" not in data and len(data) < 16384:
                    sock.settimeout(max(0.05, self.deadline - time.monotonic()))
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except TimeoutError:
                raise self._fail(
                    "timeout",
                    say("no_answer", where=where, seconds=f"{self.timeout:g}"),
                ) from None
            except OSError as exc:
                raise self._fail(
                    "unreachable", say("socket_error", where=where, error=exc.strerror or exc)
                ) from None
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1", "replace")
        line = head.split("\r\n", 1)[0]
        match = re.match(r"(RTSP|HTTP)/\d\.\d (\d{3}) ?(.*)", line)
        if not match:
            if not data:
                raise self._fail("unreachable", say("closed", where=where))
            raise self._fail(
                "unreachable",
                say(
                    "wrong_protocol",
                    where=where,
                    protocol=self.scheme.upper(),
                    line=repr(line[:60]),
                ),
            )
        return _Answer(
            int(match.group(2)), match.group(3).strip(), match.group(1), _challenges(head)
        )

    def credentials(self, answer: _Answer) -> tuple[str, str] | None:
        """(scheme, Authorization value) answering a 401: Digest when offered, Basic only when
        it is the only scheme offered; None without a user or a usable scheme."""
        if self.user is None:
            return None
        if "digest" in answer.challenges:
            value = digest_authorization(
                answer.challenges["digest"],
                user=self.user,
                password=self.password,
                method=self.method,
                uri=self.uri,
            )
            return "digest", value
        if set(answer.challenges) == {"basic"}:
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            return "basic", f"Basic {token}"
        return None


def precheck(url: str, timeout: float) -> Precheck:
    """TCP connect, then one RTSP DESCRIBE / HTTP GET; read only the response head.

    No credentials go out unasked: only after a 401 challenge, with Digest when the camera
    offers it and Basic only when it offers nothing else (``auth`` says which was used).
    """
    probe = _Probe(url, timeout)
    if probe.scheme in ("rtsps", "https"):
        return Precheck(True)  # TLS: leave it to FFmpeg
    try:
        answer, auth = probe.ask(), None
        if answer.status == 401 and (chosen := probe.credentials(answer)) is not None:
            auth = chosen[0]
            answer = probe.ask(chosen[1])
    except _Failed as failed:
        return failed.check
    return _verdict(answer, probe, auth)


def _verdict(answer: _Answer, probe: _Probe, auth: str | None) -> Precheck:
    status, reason = answer.status, answer.reason
    if status == 401 and auth is not None:
        message = say("wrong_password", answer=f"{answer.protocol} 401 {reason}")
        return Precheck(
            False, "unreachable", message, status=status, connect_ms=probe.connect_ms, auth=auth
        )
    if status >= 400 and status != 401:
        said = f"{answer.protocol} {status} {reason}"
        known = {404: "wrong_path", 403: "denied"}
        return Precheck(
            False,
            "unreachable",
            say(known[status], answer=said) if status in known else said,
            status=status,
            connect_ms=probe.connect_ms,
            auth=auth,
        )
    # 401 without credentials to send: FFmpeg tries and says what it gets
    return Precheck(True, status=status, connect_ms=probe.connect_ms, auth=auth)
