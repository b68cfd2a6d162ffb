"""Probe types: each is one function plus the pydantic model of its parameters.

To add a type, write in one of the modules below (or a new one listed in
``_PROBE_MODULES``)::

    class PingSpec(ProbeSpec):
        type: Literal["ping"]
        host: str

    @probe("ping", PingSpec)
    def ping(spec: PingSpec, ctx: ProbeContext) -> Outcome:
        ...
        return Outcome.passed(value="12 ms", expected="reachable")

A probe returns an Outcome, or raises ProbeFailed with a message; any other
exception is recorded as an error of that item. The runner enforces the
timeout; a probe that blocks on I/O should still pass ``ctx.timeout`` to it.

A probe that exists on some platforms only (CUPS, /sys, the Windows registry) says so:
``@probe("usb", UsbSpec, platforms=("linux",))``, or per spec by overriding
``ProbeSpec.platforms``. Elsewhere the runner does not run it: the item is asked as a
manual question instead ("not available on this platform"), never failed or passed.
"""

from __future__ import annotations

import errno
import importlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ppe_tech.i18n import _
from ppe_tech.yamlfile import StrictModel


class ProbeSpec(StrictModel):
    type: str

    def platforms(self) -> tuple[str, ...] | None:
        """``sys.platform`` values this probe runs on (None: its type's, usually everywhere)."""
        return None


class ProbeFailed(Exception):
    """Raised by a probe: the thing checked is not as expected (message says why)."""

    def __init__(self, message: str, value: str | None = None, expected: str | None = None):
        super().__init__(message)
        self.message, self.value, self.expected = message, value, expected


@dataclass(frozen=True)
class Outcome:
    status: str  # pass | fail
    value: str | None = None
    expected: str | None = None
    message: str = ""

    @classmethod
    def passed(cls, value: Any = None, expected: Any = None, message: str = "") -> Outcome:
        return cls("pass", _text(value), _text(expected), message)

    @classmethod
    def failed(cls, message: str, value: Any = None, expected: Any = None) -> Outcome:
        return cls("fail", _text(value), _text(expected), message)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def os_reason(exc: BaseException) -> str:
    """Why a network call failed, in the command line's language for the usual reasons (the
    operating system says them in its own, English on most machines)."""
    if isinstance(exc, ConnectionRefusedError):  # classes: Windows has its own errno codes
        return _("connection refused")
    if isinstance(exc, ConnectionResetError):
        return _("connection reset")
    if isinstance(exc, TimeoutError):
        return _("timed out")
    reasons = {
        errno.EHOSTUNREACH: _("host unreachable"),
        errno.ENETUNREACH: _("network unreachable"),
    }
    if isinstance(exc, socket.gaierror):
        reasons = {socket.EAI_NONAME: _("name not known"), socket.EAI_AGAIN: _("no answer")}
    code = getattr(exc, "errno", None)
    if code in reasons:
        return reasons[code]
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


@dataclass
class ProbeContext:
    site: Any  # ppe_tech.site.Site | None
    timeout: float  # seconds this attempt may take
    run_cache: dict = field(default_factory=dict)  # shared by the probes of one run
    run_lock: threading.Lock = field(default_factory=threading.Lock)

    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per run for all probes that ask (e.g. one scan of /proc for 50
        process probes); computed under a lock, so concurrent probes wait for the first."""
        with self.run_lock:
            if key not in self.run_cache:
                self.run_cache[key] = compute()
            return self.run_cache[key]


@dataclass(frozen=True)
class ProbeType:
    name: str
    spec: type[ProbeSpec]
    run: Callable[[Any, ProbeContext], Outcome]
    platforms: tuple[str, ...] | None = None  # sys.platform values; None: every platform


PROBE_TYPES: dict[str, ProbeType] = {}


def probe(name: str, spec: type[ProbeSpec], *, platforms: tuple[str, ...] | None = None):
    def register(func: Callable[[Any, ProbeContext], Outcome]):
        PROBE_TYPES[name] = ProbeType(name, spec, func, platforms)
        return func

    return register


def runs_on(spec: ProbeSpec, platform: str) -> bool:
    """Whether a probe of this spec can run on ``platform`` (a ``sys.platform`` value)."""
    platforms = spec.platforms() or PROBE_TYPES[spec.type].platforms
    return platforms is None or platform in platforms


_PROBE_MODULES = ("system", "network", "registry", "recordings", "cameras")

for _module in _PROBE_MODULES:
    importlib.import_module(f"{__name__}.{_module}")
