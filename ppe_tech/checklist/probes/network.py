"""Probes of the network: TCP reachability, local listening ports, HTTP, DNS, clock (SNTP)."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Literal

import ntplib
import psutil
from pydantic import Field

from ppe_tech.checklist.probes import (
    Outcome,
    ProbeContext,
    ProbeFailed,
    ProbeSpec,
    os_reason,
    probe,
)
from ppe_tech.i18n import _, ngettext
from ppe_tech.site import Duration
from ppe_tech.userregex import Regex, user_regex


class TcpSpec(ProbeSpec):
    type: Literal["tcp"]
    host: str
    port: int = Field(ge=1, le=65535)


@probe("tcp", TcpSpec)
def tcp(spec: TcpSpec, ctx: ProbeContext) -> Outcome:
    began = time.monotonic()
    try:
        with socket.create_connection((spec.host, spec.port), timeout=ctx.timeout):
            pass
    except OSError as exc:
        reason = os_reason(exc)
        return Outcome.failed(
            _("{host}:{port} unreachable: {reason}").format(
                host=spec.host, port=spec.port, reason=reason
            ),
            _("unreachable"),
            _("reachable"),
        )
    took = 1000 * (time.monotonic() - began)
    return Outcome.passed(_("connected in {ms} ms").format(ms=f"{took:.0f}"), _("reachable"))


class PortSpec(ProbeSpec):
    type: Literal["port"]
    port: int = Field(ge=1, le=65535)
    protocol: Literal["tcp", "udp"] = "tcp"


@probe("port", PortSpec)
def port(spec: PortSpec, ctx: ProbeContext) -> Outcome:
    kind = "tcp" if spec.protocol == "tcp" else "udp"
    listening = [
        c
        for c in psutil.net_connections(kind=kind)
        if c.laddr
        and c.laddr.port == spec.port
        and (kind == "udp" or c.status == psutil.CONN_LISTEN)
    ]
    if not listening:
        return Outcome.failed(
            _("nothing listens on {port}").format(port=f"{spec.protocol}/{spec.port}"),
            _("closed"),
            _("listening"),
        )
    addresses = sorted({c.laddr.ip for c in listening})
    return Outcome.passed(
        _("listening on {addresses}").format(addresses=", ".join(addresses)), _("listening")
    )


class HttpSpec(ProbeSpec):
    type: Literal["http"]
    url: str = Field(pattern=r"^https?://")
    status: int = 200
    body: Regex | None = None  # regular expression the body must contain


@probe("http", HttpSpec)
def http(spec: HttpSpec, ctx: ProbeContext) -> Outcome:
    request = urllib.request.Request(spec.url, headers={"User-Agent": "ppe-tech"})
    try:
        with urllib.request.urlopen(request, timeout=ctx.timeout) as response:
            status, body = response.status, response.read(1 << 20)
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read(1 << 20)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        reason = os_reason(reason) if isinstance(reason, BaseException) else reason
        return Outcome.failed(
            _("request failed: {reason}").format(reason=reason),
            _("unreachable"),
            f"HTTP {spec.status}",
        )
    if status != spec.status:
        return Outcome.failed(_("unexpected status"), f"HTTP {status}", f"HTTP {spec.status}")
    if spec.body and not user_regex(spec.body).search(body.decode("utf-8", "replace")):
        return Outcome.failed(
            _("body does not match"),
            ngettext("HTTP {status}, {n} byte", "HTTP {status}, {n} bytes", len(body)).format(
                status=status, n=len(body)
            ),
            f"/{spec.body}/",
        )
    return Outcome.passed(f"HTTP {status}", f"HTTP {spec.status}")


class DnsSpec(ProbeSpec):
    type: Literal["dns"]
    name: str
    expect: list[str] = []  # addresses that must be among the answers


@probe("dns", DnsSpec)
def dns(spec: DnsSpec, ctx: ProbeContext) -> Outcome:
    try:
        answers = socket.getaddrinfo(spec.name, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        return Outcome.failed(
            _("{name} does not resolve: {reason}").format(name=spec.name, reason=os_reason(exc)),
            _("unresolved"),
            _("resolves"),
        )
    addresses = sorted({str(a[4][0]) for a in answers})
    missing = [a for a in spec.expect if a not in addresses]
    if missing:
        return Outcome.failed(
            _("missing {addresses}").format(addresses=", ".join(missing)),
            ", ".join(addresses),
            ", ".join(spec.expect),
        )
    return Outcome.passed(", ".join(addresses), ", ".join(spec.expect) or _("resolves"))


class ClockSpec(ProbeSpec):
    type: Literal["clock"]
    server: str
    port: int = Field(default=123, ge=1, le=65535)
    max_offset: Duration = timedelta(minutes=1)  # DOMAIN: within a minute of reference time


@probe("clock", ClockSpec)
def clock(spec: ClockSpec, ctx: ProbeContext) -> Outcome:
    try:
        answer = ntplib.NTPClient().request(
            spec.server, port=spec.port, version=3, timeout=ctx.timeout
        )
    except ntplib.NTPException:
        server = f"{spec.server}:{spec.port}"
        raise ProbeFailed(_("no answer from NTP server {server}").format(server=server)) from None
    except OSError as exc:
        raise ProbeFailed(
            _("no answer from NTP server {server}: {reason}").format(
                server=f"{spec.server}:{spec.port}", reason=os_reason(exc)
            )
        ) from None
    limit = spec.max_offset.total_seconds()
    value = _("offset {seconds}s").format(seconds=f"{answer.offset:+.3f}")
    expected = _("|offset| <= {seconds}s").format(seconds=f"{limit:g}")
    if abs(answer.offset) > limit:
        return Outcome.failed(_("clock is off"), value, expected)
    return Outcome.passed(value, expected)
