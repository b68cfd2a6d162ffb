"""Findings of a camera check: one shape, one order, one status rule (no heavy imports)."""

from __future__ import annotations

from typing import Any

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


def finding(code: str, message: str, severity: str = "fail", **numbers: Any) -> dict[str, Any]:
    return {"code": code, "severity": severity, "message": message, **numbers}


def status_of(findings: list[dict[str, Any]]) -> str:
    severities = {f.get("severity", "fail") for f in findings}
    return "fail" if "fail" in severities else "warning" if severities else "ok"


def sort_findings(findings: list[dict[str, Any]]) -> None:
    findings.sort(key=lambda f: CODES.index(f["code"]) if f["code"] in CODES else len(CODES))
