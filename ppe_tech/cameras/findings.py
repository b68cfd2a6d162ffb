"""Findings of a camera check: one shape, one order, one status rule (no heavy imports).

A finding's message is stored in English (the store, ``--json`` and the reports keep it so,
whatever the language of the run); each is made from a template of ``MESSAGES`` with
``say``, and ``message_text`` says a stored one again in the language of the command line.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from functools import cache
from typing import Any

from ppe_tech.i18n import _

# the order findings are listed in: the stream first, then the picture, then the warnings
CODES = (
    "unreachable",
    "timeout",
    "no_frames",
    "stalled",
    "low_fps",
    "resolution_mismatch",
    "too_large",
    "black",
    "uniform",
    "overexposed",
    "frozen",
    "blurred",
    "covered",
    "moved",
    "no_reference",
    "checker_overloaded",
)


def _as_is(message: str) -> str:
    return message


def _templates(_: Callable[[str], str]) -> dict[str, str]:
    """Every finding message by name: English with ``_as_is``, translated with ``_``."""
    return {
        "file_not_found": _("file not found: {source}"),
        "not_opened": _("the stream could not be opened"),
        "not_opened_because": _("the stream could not be opened: {detail}"),
        "open_timeout": _("the stream did not open within {seconds}s"),
        "refused": _("{where} refused the connection"),
        "no_tcp": _("no TCP connection to {where} within {seconds}s"),
        "unknown_host": _("unknown host {host}: {error}"),
        "host_unreachable": _("{where} unreachable: {error}"),
        "no_answer": _("{where} accepted the connection but did not answer within {seconds}s"),
        "closed": _("{where} closed the connection without answering"),
        "wrong_protocol": _("{where} does not speak {protocol}: {line}"),
        "wrong_password": _("{answer} (wrong user or password?)"),
        "wrong_path": _("{answer} (wrong path?)"),
        "denied": _("{answer} (access denied)"),
        "no_frame_within": _("the stream opened but sent no frame within {seconds}s"),
        "undecodable": _("no frame of the stream could be decoded"),
        "capture_failed": _("capture failed: {error}"),
        "capture_died": _("the capture process died (exit code {code})"),
        "no_result": _("no result within {seconds}s: capture stopped"),
        "no_result_within": _("no result within {seconds}s"),
        "stalls": _("{stalls} stall(s) in the sample, longest {seconds}s without a frame"),
        "stopped": _("the stream stopped {after}s into the sample: no frame for {seconds}s"),
        "ended": _("the stream ended {after}s into the sample"),
        "few_frames": _("fewer than 2 frames in the sample"),
        "low_fps": _("{fps} fps delivered, {expected} expected"),
        "resolution": _("{size}, expected {expected}"),
        "too_large": _(
            "{size} is larger than the pictures this check decodes ({mpx} Mpx): "
            "the picture is not judged"
        ),
        "black": _("picture is black (mean brightness {brightness} of 255)"),
        "uniform": _("picture is one colour (contrast {contrast})"),
        "overexposed": _("{pct} of the picture is saturated"),
        "frozen": _("nothing in the picture changed over {frames} frames ({pct} of it moved)"),
        "moved": _("view moved against the reference: {how}"),
        "shifted": _("shifted {px} px ({pct} of the frame)"),
        "rotated": _("rotated {degrees} degrees"),
        "zoomed": _("zoomed {pct}"),
        "no_features": _("the view does not match the reference (no common features)"),
        "covered": _(
            "structure of the reference lost over {pct} of the picture ({lost} of {cells} cells)"
        ),
        "blurred": _("sharpness {pct} of the reference's"),
        "no_reference": _("no reference picture: run `ppe-tech cameras reference`"),
        "bad_reference": _("the reference {name} cannot be read as an image"),
        "busy_camera": _(
            "this machine was too busy to judge the camera: {what} while the check waited "
            "for a CPU {pct} of the time"
        ),
        "busy_stream": _("this machine was too busy to judge the stream: it {how}"),
        "fell_behind": _("fell {seconds}s behind the stream"),
        "waited_cpu": _("waited for a CPU {pct} of the sample"),
        "busy_picture": _(
            "the stream was received, but this machine was too busy to judge the picture "
            "within {seconds}s"
        ),
        "socket_error": _("{where}: {error}"),  # last: it would match any "x: y"
    }


def say(name: str, /, **values: Any) -> str:
    """The English message ``name`` of ``_templates`` with ``values`` (formatted already)."""
    return _templates(_as_is)[name].format(**values)


@cache
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    patterns = []
    for name, template in _templates(_as_is).items():
        regex = "".join(
            re.escape(literal) + (f"(?P<{field}>.+?)" if field else "")
            for literal, field, _spec, _conv in string.Formatter().parse(template)
        )
        patterns.append((name, re.compile(regex, re.DOTALL)))
    return patterns


def message_text(message: str) -> str:
    """A stored (English) message in the language of the command line; its values are said
    again too when they are messages themselves (``moved``: ``shifted ..., rotated ...``),
    and a message of no template stays as it is."""
    for name, pattern in _patterns():
        match = pattern.fullmatch(message)
        if match:
            values = {
                key: _parts(value) if key in ("how", "what") else value
                for key, value in match.groupdict().items()
            }
            return _templates(_)[name].format(**values)
    return message


def _parts(value: str) -> str:
    """``shifted 12 px (3.0% of the frame), rotated 2.0 degrees``, ``timeout, no_frames``:
    each part said again (a code by its label), the separators too."""
    pieces = re.split(r"(, | and )", value)
    return "".join(
        (", " if piece == ", " else " " + _("and") + " ")
        if index % 2
        else code_label(piece)
        if piece in CODES
        else message_text(piece)
        for index, piece in enumerate(pieces)
    )


def finding(code: str, message: str, severity: str = "fail", **numbers: Any) -> dict[str, Any]:
    return {"code": code, "severity": severity, "message": message, **numbers}


def status_of(findings: list[dict[str, Any]]) -> str:
    severities = {f.get("severity", "fail") for f in findings}
    return "fail" if "fail" in severities else "warning" if severities else "ok"


def sort_findings(findings: list[dict[str, Any]]) -> None:
    findings.sort(key=lambda f: CODES.index(f["code"]) if f["code"] in CODES else len(CODES))


def status_label(status: str, _: Callable[[str], str] = _) -> str:
    """A camera's verdict as printed: ``ok``, ``fail`` in English, in words in Russian."""
    labels = {
        "ok": _("ok"),
        "warning": _("warning"),
        "fail": _("fail"),
        "not-verified": _("not-verified"),
    }
    return labels.get(status, status)


def code_label(code: str) -> str:
    """A finding's code as printed: ``covered`` in English, in words in Russian."""
    labels = {
        "unreachable": _("unreachable"),
        "timeout": _("timeout"),
        "no_frames": _("no_frames"),
        "stalled": _("stalled"),
        "low_fps": _("low_fps"),
        "resolution_mismatch": _("resolution_mismatch"),
        "too_large": _("too_large"),
        "black": _("black"),
        "uniform": _("uniform"),
        "overexposed": _("overexposed"),
        "frozen": _("frozen"),
        "blurred": _("blurred"),
        "covered": _("covered"),
        "moved": _("moved"),
        "no_reference": _("no_reference"),
        "checker_overloaded": _("checker_overloaded"),
    }
    return labels.get(code, code)
