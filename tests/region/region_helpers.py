"""Helpers of the region tests (`from tests.region.region_helpers import ...`)."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(
    *args: str, env: dict | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """``ppe-tech ARGS`` as a real process (what a user runs), output captured."""
    return subprocess.run(
        [sys.executable, "-m", "ppe_tech", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def versions(admin, bucket: str, prefix: str = "") -> dict[str, list[dict]]:
    """Every version of every key (a versioned bucket keeps each PUT as a version)."""
    found: dict[str, list[dict]] = {}
    for page in admin.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for v in page.get("Versions", []):
            found.setdefault(v["Key"], []).append(v)
    return found
