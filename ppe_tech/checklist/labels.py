"""A checklist run's codes in words people read, in the command line's language.

The store and ``--json`` keep the codes (``pass``, ``critical``, ``late_minutes``); these are
what the terminal prints for them.
"""

from __future__ import annotations

from datetime import timedelta

from ppe_tech.i18n import _
from ppe_tech.timeutil import human_duration


def status_label(status: str) -> str:
    """An item's status (pass, fail, timeout, error, skip, unanswered, interrupted)."""
    labels = {
        "pass": _("pass"),
        "fail": _("fail"),
        "timeout": _("timeout"),
        "error": _("error"),
        "skip": _("skip"),
        "unanswered": _("unanswered"),
        "interrupted": _("interrupted"),
    }
    return labels.get(status, status)


def severity_label(severity: str) -> str:
    """critical, or not (a failed warning item does not fail the run), or for information."""
    labels = {
        "critical": _("critical"),
        "warning": _("not critical"),
        "info": _("for information"),
    }
    return labels.get(severity, severity)


def verdict_label(status: str) -> str:
    """A run's status (passed, failed, interrupted) as the verdict line shouts it."""
    labels = {"passed": _("PASSED"), "failed": _("FAILED"), "interrupted": _("INTERRUPTED")}
    return labels.get(status, status)


def run_status_label(status: str) -> str:
    """A run's status in a listing."""
    labels = {"passed": _("passed"), "failed": _("failed"), "interrupted": _("interrupted")}
    return labels.get(status, status)


def timeliness_label(late_minutes: int | None) -> str:
    """On time, or late by how long (a run with no exam has no deadline)."""
    if late_minutes is None:
        return _("no deadline")
    if late_minutes == 0:
        return _("on time")
    return _("late by {duration}").format(duration=human_duration(timedelta(minutes=late_minutes)))


def counts_label(counts: dict[str, int]) -> str:
    """``2 fail, 16 pass`` (``не пройдено: 2, пройдено: 16``)."""
    return ", ".join(
        _("{count} {status}").format(count=n, status=status_label(s))
        for s, n in sorted(counts.items())
    )
