"""ONVIF WS-Discovery: which cameras answer on the local network (``cameras discover``).

A WS-Discovery Probe for ``NetworkVideoTransmitter`` goes out (multicast, on every
interface or on the one of ``address``); devices answer with their service addresses
(XAddrs) and scopes (name, hardware, location). ppe.yaml stays the source of truth:
this only helps the technician fill it in. Always returns within ``timeout`` + ~1 s.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import unquote, urlsplit

ONVIF_NS = "http://www.onvif.org/ver10/network/wsdl"
WSD_PORT = 3702


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


def discover_cameras(timeout: float = 3.0, address: str | None = None) -> list[dict[str, Any]]:
    """Devices that answered a WS-Discovery probe within ``timeout`` seconds.

    ``address``: probe and listen on this local address (interface) only, e.g.
    127.0.0.1. Each device: address, epr, xaddrs, types, name, hardware, location, scopes.
    """
    from wsdiscovery import QName

    from ppe_tech.errors import ConfigError

    if address is not None:
        try:
            ipaddress.IPv4Address(address)
        except ValueError:
            raise ConfigError(f"--address {address!r} is not an IPv4 address") from None
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
        hosts = sorted({urlsplit(x).hostname or "" for x in xaddrs} - {""})
        devices.append({
            "address": ", ".join(hosts) or "?",
            "epr": service.getEPR(),
            "xaddrs": xaddrs,
            "types": [str(t) for t in service.getTypes()],
            **_scopes(service),
            "scopes": [s.getValue() if hasattr(s, "getValue") else str(s) for s in service.getScopes()],
        })  # fmt: skip
    return sorted(devices, key=lambda d: d["address"])
