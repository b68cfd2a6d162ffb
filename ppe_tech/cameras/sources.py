"""Camera sources: what kind a ppe.yaml ``source`` is, and a quick network pre-check.

The pre-check tells apart what OpenCV reports only as "could not open": a refused
port, a host that accepts TCP and never answers, and an RTSP/HTTP error status
(404: wrong path; 401: wrong password). It speaks just enough RTSP (DESCRIBE) or
HTTP (GET) to read the status line, within the camera's open timeout.
"""

from __future__ import annotations

import base64
import re
import socket
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

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

    def metrics(self) -> dict[str, int]:
        out = {"tcp_connect_ms": round(self.connect_ms)} if self.connect_ms is not None else {}
        return out | ({"status": self.status} if self.status is not None else {})


def precheck(url: str, timeout: float) -> Precheck:
    """TCP connect, then one RTSP DESCRIBE / HTTP GET; read only the status line."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host, port = parts.hostname or "", parts.port or DEFAULT_PORTS.get(scheme, 554)
    if scheme in ("rtsps", "https"):
        return Precheck(True)  # TLS: leave it to FFmpeg
    began = time.monotonic()
    deadline = began + timeout
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except ConnectionRefusedError:
        return Precheck(False, "unreachable", f"{host}:{port} refused the connection")
    except TimeoutError:
        return Precheck(False, "timeout", f"no TCP connection to {host}:{port} within {timeout:g}s")
    except socket.gaierror as exc:
        return Precheck(False, "unreachable", f"unknown host {host}: {exc.strerror}")
    except OSError as exc:
        return Precheck(False, "unreachable", f"{host}:{port} unreachable: {exc.strerror or exc}")
    connect_ms = 1000 * (time.monotonic() - began)
    with sock:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        netloc = host if parts.port is None else f"{host}:{port}"
        auth = ""
        if parts.username is not None:
            token = base64.b64encode(
                f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            )
            auth = f"Authorization: Basic {token.decode()}\r\n"
        if scheme == "rtsp":
            request = (f"DESCRIBE rtsp://{netloc}{path} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n"
                       f"User-Agent: ppe-tech\r\n{auth}\r\n")  # fmt: skip
        else:
            request = f"GET {path} HTTP/1.0\r\nHost: {netloc}\r\nUser-Agent: ppe-tech\r\n{auth}\r\n"
        try:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            sock.sendall(request.encode())
            data = b""
            while b"\r\n" not in data and len(data) < 4096:
                sock.settimeout(max(0.05, deadline - time.monotonic()))
                chunk = sock.recv(1024)
                if not chunk:
                    break
                data += chunk
        except TimeoutError:
            return Precheck(False, "timeout", f"{host}:{port} accepted the connection but did not answer "
                            f"within {timeout:g}s", connect_ms=connect_ms)  # fmt: skip
        except OSError as exc:
            return Precheck(
                False, "unreachable", f"{host}:{port}: {exc.strerror or exc}", connect_ms=connect_ms
            )
    line = data.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    match = re.match(r"(RTSP|HTTP)/\d\.\d (\d{3}) ?(.*)", line)
    if not match:
        if not data:
            return Precheck(False, "unreachable", f"{host}:{port} closed the connection without answering",
                            connect_ms=connect_ms)  # fmt: skip
        return Precheck(False, "unreachable", f"{host}:{port} does not speak {scheme.upper()}: {line[:60]!r}",
                        connect_ms=connect_ms)  # fmt: skip
    status = int(match.group(2))
    reason = match.group(3).strip()
    if status == 401:  # digest auth and the like: FFmpeg does the full handshake
        return Precheck(True, status=status, connect_ms=connect_ms)
    if status >= 400:
        what = {404: " (wrong path?)", 403: " (access denied)"}.get(status, "")
        return Precheck(False, "unreachable", f"{match.group(1)} {status} {reason}{what}", status=status,
                        connect_ms=connect_ms)  # fmt: skip
    return Precheck(True, status=status, connect_ms=connect_ms)
