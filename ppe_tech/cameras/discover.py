"""ONVIF WS-Discovery: which cameras answer on the local network (``cameras discover``).

A WS-Discovery Probe for ``NetworkVideoTransmitter`` goes out (multicast, on every
interface or on the one of ``address``); devices answer with their service addresses
(XAddrs) and scopes (name, hardware, location). ppe.yaml stays the source of truth:
this only helps the technician fill it in. The stream URIs of each device that answered
are then asked over ONVIF (GetCapabilities, GetProfiles, GetStreamUri; WS-Security
UsernameToken digest when a user is given), each device within ``timeout``.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import unquote, urlsplit

ONVIF_NS = "http://www.onvif.org/ver10/network/wsdl"


def make_wsd(only_address: str | None = None, publisher: bool = False):
    """A ThreadedWSDiscovery (or, for tests, a publisher), optionally limited to one local address."""
    from wsdiscovery.discovery import ThreadedWSDiscovery
    from wsdiscovery.publishing import ThreadedWSPublishing

    base = ThreadedWSPublishing if publisher else ThreadedWSDiscovery

    class LimitedWSDiscovery(base):
        def _networkAddressAdded(self, addr):  # noqa: N802 - wsdiscovery's name
            if only_address is None or addr == only_address:
                super()._networkAddressAdded(addr)

        def _networkAddressRemoved(self, addr):  # noqa: N802
            if only_address is None or addr == only_address:
                super()._networkAddressRemoved(addr)

    return LimitedWSDiscovery()


def _scopes(service) -> dict[str, str]:
    found: dict[str, str] = {}
    for scope in service.getScopes():
        text = scope.getValue() if hasattr(scope, "getValue") else str(scope)
        for key in ("name", "hardware", "location"):
            marker = f"onvif://www.onvif.org/{key}/"
            if text.startswith(marker):
                found[key] = unquote(text[len(marker) :])
    return found


def discover_cameras(
    timeout: float = 3.0,
    address: str | None = None,
    user: str | None = None,
    password: str | None = None,
) -> list[dict[str, Any]]:
    """Devices that answered a WS-Discovery probe within ``timeout`` seconds.

    ``address``: probe and listen on this local address (interface) only, e.g.
    127.0.0.1. Each device: address, epr, xaddrs, types, name, hardware, location,
    scopes, and stream_uris (asked of the device over ONVIF, with ``user``/``password``
    when given; empty when the device does not say within ``timeout``).
    """
    from wsdiscovery import QName

    from ppe_tech.errors import ConfigError
    from ppe_tech.i18n import _

    if address is not None:
        try:
            ipaddress.IPv4Address(address)
        except ValueError:
            raise ConfigError(
                _("--address {address!r} is not an IPv4 address").format(address=address)
            ) from None
    wsd = make_wsd(address)
    wsd.start()
    try:
        types = [QName(ONVIF_NS, "NetworkVideoTransmitter", "dn")]
        services = wsd.searchServices(types=types, timeout=timeout)
    finally:
        wsd.stop()
    devices = []
    for service in services:
        xaddrs = list(service.getXAddrs())
        uris: list[str] = []
        for xaddr in xaddrs:
            uris = stream_uris(xaddr, user, password, timeout=timeout)
            if uris:
                break
        hosts = sorted({urlsplit(x).hostname or "" for x in xaddrs} - {""})
        devices.append(
            {
                "address": ", ".join(hosts) or "?",
                "epr": service.getEPR(),
                "xaddrs": xaddrs,
                "types": [str(t) for t in service.getTypes()],
                **_scopes(service),
                "scopes": [
                    s.getValue() if hasattr(s, "getValue") else str(s) for s in service.getScopes()
                ],
                "stream_uris": uris,
            }
        )
    return sorted(devices, key=lambda d: d["address"])


# -- ONVIF media: the stream URIs of a device (GetCapabilities, GetProfiles, GetStreamUri) ----

_SOAP = "http://www.w3.org/2003/05/soap-envelope"
_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
_B64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-soap-message-security-1.0#Base64Binary"
_TDS = "http://www.onvif.org/ver10/device/wsdl"
_TRT = "http://www.onvif.org/ver10/media/wsdl"
_TT = "http://www.onvif.org/ver10/schema"


def _security(user: str, password: str) -> str:
    """WS-Security UsernameToken with PasswordDigest = B64(SHA1(nonce + created + password))."""
    import base64
    import hashlib
    import os
    from datetime import UTC, datetime

    nonce = os.urandom(16)
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    digest = base64.b64encode(
        hashlib.sha1(nonce + created.encode() + password.encode()).digest()
    ).decode()
    from xml.sax.saxutils import escape

    return (
        f'<Security s:mustUnderstand="1" xmlns="{_WSSE}"><UsernameToken>'
        f"<Username>{escape(user)}</Username>"
        f'<Password Type="{_DIGEST}">{digest}</Password>'
        f'<Nonce EncodingType="{_B64}">{base64.b64encode(nonce).decode()}</Nonce>'
        f'<Created xmlns="{_WSU}">{created}</Created>'
        "</UsernameToken></Security>"
    )


def _soap(url: str, body: str, user: str | None, password: str | None, timeout: float):
    """POST one SOAP 1.2 request; the parsed response envelope, or None on any failure."""
    import urllib.error
    import urllib.request
    import xml.etree.ElementTree as ET

    header = f"<s:Header>{_security(user, password or '')}</s:Header>" if user else ""
    envelope = f'<s:Envelope xmlns:s="{_SOAP}">{header}<s:Body>{body}</s:Body></s:Envelope>'
    request = urllib.request.Request(
        url, data=envelope.encode(), headers={"Content-Type": "application/soap+xml; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return ET.fromstring(response.read(1 << 20))
    except (urllib.error.URLError, OSError, ET.ParseError, ValueError):
        return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def stream_uris(
    xaddr: str, user: str | None = None, password: str | None = None, timeout: float = 3.0
) -> list[str]:
    """RTSP URIs of every media profile of the ONVIF device at ``xaddr`` ([] if it will not say)."""
    import time

    deadline = time.monotonic() + timeout

    def left() -> float:
        return max(0.1, deadline - time.monotonic())

    media = xaddr
    caps = _soap(
        xaddr,
        f'<GetCapabilities xmlns="{_TDS}"><Category>Media</Category></GetCapabilities>',
        user,
        password,
        left(),
    )
    if caps is not None:
        for element in caps.iter():
            if _local(element.tag) == "Media":
                found = [c.text for c in element if _local(c.tag) == "XAddr" and c.text]
                media = found[0].strip() if found else media
                break
    profiles = _soap(media, f'<GetProfiles xmlns="{_TRT}"/>', user, password, left())
    if profiles is None:
        return []
    tokens = [
        e.get("token") for e in profiles.iter() if _local(e.tag) == "Profiles" and e.get("token")
    ]
    uris = []
    for token in tokens:
        if time.monotonic() >= deadline:
            break
        body = (
            f'<GetStreamUri xmlns="{_TRT}"><StreamSetup><Stream xmlns="{_TT}">RTP-Unicast</Stream>'
            f'<Transport xmlns="{_TT}"><Protocol>RTSP</Protocol></Transport></StreamSetup>'
            f"<ProfileToken>{token}</ProfileToken></GetStreamUri>"
        )
        answer = _soap(media, body, user, password, left())
        if answer is None:
            continue
        for element in answer.iter():
            if _local(element.tag) == "Uri" and element.text and element.text.strip() not in uris:
                uris.append(element.text.strip())
    return uris
