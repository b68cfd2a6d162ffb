"""Durations ("3h55m", "30s", "1.5m") and timestamps, one notation across the toolkit."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

from ppe_tech.i18n import _, current_language

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s|d)")
_UNIT_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
MAX_DURATION = timedelta(days=3660)  # ten years: longer is a typo, and would overflow dates


def _bounded(seconds: float, value: object) -> timedelta:
    if not math.isfinite(seconds) or seconds > MAX_DURATION.total_seconds():
        raise ValueError(
            _("{value!r} is out of range (at most {days} days)").format(
                value=value, days=MAX_DURATION.days
            )
        )
    return timedelta(seconds=seconds)


def parse_duration(value: str | int | float) -> timedelta:
    """Parse ``3h55m``, ``90s``, ``250ms``, ``1.5h`` or a bare number of seconds.

    Raises ValueError with a readable message on anything else.
    """
    if isinstance(value, bool):
        raise ValueError(_("{value!r} is not a duration").format(value=value))
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(_("{value!r} is negative").format(value=value))
        return _bounded(float(value), value)
    text = str(value).strip().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return _bounded(float(text), value)
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(
            _("{value!r} is not a duration (use e.g. 90s, 30m, 3h55m)").format(value=value)
        )
    return _bounded(total, value)


def format_duration(delta: timedelta) -> str:
    seconds = int(round(delta.total_seconds()))
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return sign + ("".join(parts) or "0s")


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 with offset and seconds precision, the store's timestamp format."""
    return moment.isoformat(timespec="seconds")


_UNITS = {
    "en": {"d": "d", "h": "h", "min": "min", "s": "s"},
    "ru": {"d": "сут", "h": "ч", "min": "мин", "s": "с"},
}


def human_duration(delta: timedelta | float, lang: str | None = None) -> str:
    """A duration as people say it: ``45 s``, ``15 min``, ``8 h 51 min``, ``2 d 3 h``
    (``8 ч 51 мин`` in Russian). Two units at most, the smaller one dropped when zero;
    rounded down, so "silent for 8 h 51 min" is never more than the truth. ``lang``
    defaults to the command line's current language."""
    seconds = int(delta.total_seconds() if isinstance(delta, timedelta) else delta)
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    unit = _UNITS.get(lang or current_language(), _UNITS["en"])
    if seconds < 60:
        return f"{sign}{seconds} {unit['s']}"
    if seconds < 3600:
        return f"{sign}{seconds // 60} {unit['min']}"
    big, small, big_unit, small_unit = (
        (seconds // 3600, seconds % 3600 // 60, "h", "min")
        if seconds < 86400
        else (seconds // 86400, seconds % 86400 // 3600, "d", "h")
    )
    rest = f" {small} {unit[small_unit]}" if small else ""
    return f"{sign}{big} {unit[big_unit]}{rest}"


def local_clock(moment: datetime, tz, *, seconds: bool = True) -> str:
    """``10:15:00 MSK``: the point's local time of day with its zone named."""
    local = moment.astimezone(tz)
    zone = local.tzname() or ""
    if zone and not zone.isalpha():  # zones without an abbreviation print "+05": say "UTC+05"
        zone = f"UTC{zone}"
    clock = f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"
    return f"{clock} {zone}".rstrip()
