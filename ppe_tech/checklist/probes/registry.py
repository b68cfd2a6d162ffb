"""The Windows registry: a value of a key, and the version of an installed program.

Where installed Windows software keeps its version: ``DisplayVersion`` under
``HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\<id>`` (and the 32-bit
``WOW6432Node`` view, and the user's ``HKCU``), beside its ``DisplayName``. These probes
exist on Windows only (``platforms=("win32",)``); elsewhere the runner asks the item by hand.
The ``winreg`` calls sit under ``sys.platform == "win32"`` so mypy checks them for Windows
and skips them for Linux.
"""

from __future__ import annotations

import sys
from typing import Literal

from pydantic import field_validator

from ppe_tech.checklist.probes import Outcome, ProbeContext, ProbeFailed, ProbeSpec, probe
from ppe_tech.checklist.probes.versions import DEFAULT_PATTERN, check_constraint, version_outcome
from ppe_tech.i18n import _
from ppe_tech.userregex import Regex, user_regex

HIVES = {
    "HKLM": "HKEY_LOCAL_MACHINE",
    "HKEY_LOCAL_MACHINE": "HKEY_LOCAL_MACHINE",
    "HKCU": "HKEY_CURRENT_USER",
    "HKEY_CURRENT_USER": "HKEY_CURRENT_USER",
}  # short and long names of the two hives a station check reads
UNINSTALL_KEYS = (
    ("HKEY_LOCAL_MACHINE", r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"),
    ("HKEY_LOCAL_MACHINE", r"SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall"),
    ("HKEY_CURRENT_USER", r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"),
)


def split_key(key: str) -> tuple[str, str]:
    """``HKLM\\SOFTWARE\\X`` -> (``HKEY_LOCAL_MACHINE``, ``SOFTWARE\\X``); ValueError otherwise."""
    hive, _sep, path = key.replace("/", "\\").partition("\\")
    if hive.upper() not in HIVES or not path:
        raise ValueError(f"{key!r}: expected HKLM\\... or HKCU\\...")
    return HIVES[hive.upper()], path


def read_value(hive: str, path: str, name: str) -> str | None:
    """One registry value as text, or None when the key or value is missing."""
    if sys.platform == "win32":
        import winreg

        try:
            with winreg.OpenKey(getattr(winreg, hive), path) as handle:
                value, _kind = winreg.QueryValueEx(handle, name)
        except OSError:
            return None
        return str(value)
    raise ProbeFailed(_("the Windows registry is not available on this platform"))


def installed_programs() -> list[tuple[str, str]]:
    """(DisplayName, DisplayVersion) of every program in the Uninstall keys."""
    found: list[tuple[str, str]] = []
    if sys.platform == "win32":
        import winreg

        for hive, path in UNINSTALL_KEYS:
            try:
                root = winreg.OpenKey(getattr(winreg, hive), path)
            except OSError:
                continue
            with root:
                for index in range(winreg.QueryInfoKey(root)[0]):
                    sub = f"{path}\\{winreg.EnumKey(root, index)}"
                    name = read_value(hive, sub, "DisplayName")
                    if name:
                        found.append((name, read_value(hive, sub, "DisplayVersion") or ""))
    return found


def installed_version(program: str) -> str:
    """The DisplayVersion of the first installed program whose DisplayName matches ``program``."""
    pattern = user_regex(f"(?i){program}")
    for name, version in installed_programs():
        if pattern.search(name):
            return version
    raise ProbeFailed(
        _("no installed program matches {pattern}").format(pattern=f"/{program}/"),
        _("not installed"),
    )


class RegistrySpec(ProbeSpec):
    type: Literal["registry"]
    key: str  # HKLM\SOFTWARE\... or HKCU\...
    value: str = "DisplayVersion"
    version: str | None = None  # constraint on the value, e.g. ">=26.1"
    pattern: Regex = DEFAULT_PATTERN

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        split_key(value)
        return value

    @field_validator("version")
    @classmethod
    def _constraint(cls, value: str | None) -> str | None:
        return None if value is None else check_constraint(value)


@probe("registry", RegistrySpec, platforms=("win32",))
def registry(spec: RegistrySpec, ctx: ProbeContext) -> Outcome:
    hive, path = split_key(spec.key)
    value = read_value(hive, path, spec.value)
    if value is None:
        return Outcome.failed(
            _("{key} not found").format(key=f"{spec.key}\\{spec.value}"), _("missing"), spec.version
        )
    if spec.version is None:
        return Outcome.passed(value, _("present"))
    return version_outcome(value, spec.version, spec.pattern)
