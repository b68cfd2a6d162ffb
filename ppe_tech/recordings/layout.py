"""Layout patterns: where a recorder puts a camera's segment for a given start time.

A pattern is a relative path with placeholders, e.g. the Frigate layout
``{date}/{hour}/{camera}/{minute}.{second}.mp4``. Placeholders:

=============  ==========================  ==================
placeholder    matches                     example
=============  ==========================  ==================
``{camera}``   the camera id               ``corridor-1``
``{date}``     ``YYYY-MM-DD``              ``2026-05-28``
``{year}``     ``YYYY``                    ``2026``
``{month}``    ``MM``                      ``05``
``{day}``      ``DD``                      ``28``
``{hour}``     ``HH``                      ``07``
``{minute}``   ``MM``                      ``05``
``{second}``   ``SS``                      ``30``
``{time}``     ``HH-MM-SS``, ``HH.MM.SS``,  ``07-05-30``
               ``HH:MM:SS`` or ``HHMMSS``
``{epoch}``    Unix seconds                ``1780000000``
``{any}``      any text within one folder  ``clip``
=============  ==========================  ==================

The times in paths are in the site's ``recordings.timezone`` (UTC for Frigate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

_TOKENS = {
    "camera": r"(?P<camera>[A-Za-z0-9][A-Za-z0-9_.-]*)",
    "date": r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})",
    "year": r"(?P<year>\d{4})",
    "month": r"(?P<month>\d{2})",
    "day": r"(?P<day>\d{2})",
    "hour": r"(?P<hour>\d{2})",
    "minute": r"(?P<minute>\d{2})",
    "second": r"(?P<second>\d{2})",
    "time": r"(?P<hour>\d{2})[-.:]?(?P<minute>\d{2})[-.:]?(?P<second>\d{2})",
    "epoch": r"(?P<epoch>\d{9,11})",
    "any": r"[^/]*?",
}
_PLACEHOLDER = re.compile(r"\{([a-z]+)\}")


@dataclass(frozen=True)
class Layout:
    pattern: str
    regex: re.Pattern

    def parse(self, relative: str, tz: tzinfo = UTC) -> tuple[str, datetime] | None:
        """``(camera, start in UTC)`` of a path relative to the root, or None if it does not fit."""
        match = self.regex.fullmatch(relative)
        if match is None:
            return None
        fields = match.groupdict()
        try:
            if fields.get("epoch"):
                start = datetime.fromtimestamp(int(fields["epoch"]), UTC)
            else:
                start = datetime(
                    int(fields["year"]),
                    int(fields["month"]),
                    int(fields["day"]),
                    int(fields.get("hour") or 0),
                    int(fields.get("minute") or 0),
                    int(fields.get("second") or 0),
                    tzinfo=tz,
                ).astimezone(UTC)
        except ValueError:  # 2026-02-30, hour 25: not a segment of ours
            return None
        return fields["camera"], start

    def path_for(self, camera: str, start: datetime, tz: tzinfo = UTC) -> str:
        """The relative path a segment of ``camera`` starting at ``start`` has (used by the demo)."""
        local = start.astimezone(tz)
        values = {
            "camera": camera,
            "date": f"{local:%Y-%m-%d}",
            "year": f"{local:%Y}",
            "month": f"{local:%m}",
            "day": f"{local:%d}",
            "hour": f"{local:%H}",
            "minute": f"{local:%M}",
            "second": f"{local:%S}",
            "time": f"{local:%H-%M-%S}",
            "epoch": str(int(start.timestamp())),
            "any": "segment",
        }
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], self.pattern)


MAX_PLACEHOLDERS = 16
_VARIABLE = ("camera", "any")  # placeholders of any width: two in a row could backtrack for ever


def _refuse_backtracking(pattern: str) -> None:
    """A layout whose regex could take exponential time on a path is refused up front."""
    found = list(_PLACEHOLDER.finditer(pattern))
    if len(found) > MAX_PLACEHOLDERS:
        raise ValueError(f"layout {pattern!r}: more than {MAX_PLACEHOLDERS} placeholders")
    for before, after in zip(found, found[1:], strict=False):
        adjacent = before.end() == after.start()
        if adjacent and before[1] in _VARIABLE and after[1] in _VARIABLE:
            raise ValueError(
                f"layout {pattern!r}: {{{before[1]}}}{{{after[1]}}} need text between them"
            )


def compile_layout(pattern: str) -> Layout:
    """Check and compile a layout pattern; ValueError says what is wrong."""
    if not pattern or pattern.startswith("/") or ".." in pattern.split("/"):
        raise ValueError(f"layout {pattern!r} must be a relative path without '..'")
    names = _PLACEHOLDER.findall(pattern)
    unknown = sorted(set(names) - set(_TOKENS))
    if unknown:
        raise ValueError(
            f"layout {pattern!r}: unknown placeholder {{{unknown[0]}}} (known: {', '.join(_TOKENS)})"
        )
    if "camera" not in names:
        raise ValueError(f"layout {pattern!r} has no {{camera}}")
    has_day = "date" in names or {"year", "month", "day"} <= set(names)
    if "epoch" not in names and not (
        has_day and ("time" in names or {"hour", "minute", "second"} <= set(names))
    ):
        raise ValueError(
            f"layout {pattern!r} does not give the full start time "
            "(needs {date} or {year}{month}{day}, and {time} or {hour}{minute}{second}; or {epoch})"
        )
    _refuse_backtracking(pattern)
    regex_parts, seen, pos = [], set(), 0
    for match in _PLACEHOLDER.finditer(pattern):
        regex_parts.append(re.escape(pattern[pos : match.start()]))
        name = match.group(1)
        token = _TOKENS[name]
        groups = set(re.findall(r"\?P<([a-z]+)>", token))
        if groups & seen:  # the same field twice: the second must equal the first
            for group in groups & seen:
                token = re.sub(rf"\(\?P<{group}>[^)]*\)", f"(?P={group})", token)
        seen |= groups
        regex_parts.append(token)
        pos = match.end()
    regex_parts.append(re.escape(pattern[pos:]))
    return Layout(pattern, re.compile("".join(regex_parts)))
