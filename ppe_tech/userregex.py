"""Regular expressions written by users (checklists, ppe.yaml): RE2, linear time, no hang.

Python's ``re`` backtracks: ``^(a+)+$`` against forty ``a`` and a ``b`` runs for hours and
holds the interpreter lock, so neither a probe's timeout nor Ctrl-C can stop it. RE2
(google-re2) matches in time linear in the text; it refuses what only backtracking can do
(backreferences, lookaround), which is refused here with the reason, at load time.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any

from pydantic import AfterValidator

MAX_PATTERN = 2000  # characters; a longer pattern is a mistake


@functools.lru_cache(maxsize=512)
def user_regex(pattern: str) -> Any:
    """The compiled RE2 pattern (``search``/``match``/``fullmatch`` like ``re``); ValueError."""
    import re2

    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"regular expression longer than {MAX_PATTERN} characters")
    try:
        return re2.compile(pattern)
    except re2.error as exc:
        raise ValueError(
            f"/{pattern}/ is not a regular expression this tool runs ({exc}); backreferences "
            "and lookaround are not supported, as they could make a match run for ever"
        ) from None


def _checked(pattern: str) -> str:
    user_regex(pattern)
    return pattern


Regex = Annotated[str, AfterValidator(_checked)]  # a spec field: refused at load, with file:line
