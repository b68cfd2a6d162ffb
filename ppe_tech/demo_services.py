"""Local stand-ins for the services an exam point checks, for the demo and the tests.

The demo must run with no network and no hardware, so it points the checklist
at these instead: an HTTP server playing the federal portal, and an SNTP
server answering with this machine's clock (plus an optional skew). They are
real servers on loopback, so the probes talk real protocols to them.
"""

from __future__ import annotations

import http.server
import socket
import socketserver
import struct
import threading
import time

NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900-01-01 to 1970-01-01


def _ntp_timestamp(unix_time: float) -> bytes:
    seconds = unix_time + NTP_EPOCH_OFFSET
    return struct.pack("!II", int(seconds), int((seconds % 1) * 2**32))


class SntpServer:
    """Answers SNTP (RFC 4330) requests on a UDP loopback port with the local time + skew."""

    def __init__(self, skew_seconds: float = 0.0, host: str = "127.0.0.1"):
        self.skew = skew_seconds
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="sntp", daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                request, client = self.sock.recvfrom(512)
            except (TimeoutError, OSError):
                continue
            if len(request) < 48:
                continue
            received = _ntp_timestamp(time.time() + self.skew)
            version = (request[0] >> 3) & 0x7
            header = struct.pack("!BBBb", (version << 3) | 4, 1, 0, -20)  # server, stratum 1
            reply = header + b"\0" * 8 + b"LOCL" + received + request[40:48] + received
            reply += _ntp_timestamp(time.time() + self.skew)
            self.sock.sendto(reply, client)

    def __enter__(self) -> SntpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


class _PortalHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = b"<html><body>federal portal: OK</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class PortalServer:
    """A loopback HTTP server that answers every GET with 200 and a short page."""

    def __init__(self, host: str = "127.0.0.1"):
        self.httpd = socketserver.ThreadingTCPServer((host, 0), _PortalHandler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://{host}:{self.port}/"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="portal", daemon=True)

    def __enter__(self) -> PortalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
