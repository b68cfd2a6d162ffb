"""Manual items asked on a real terminal (a pseudo-terminal), as the technician sees them."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time

from tests.checklist.conftest import write_checklist


def _read_until(fd: int, marker: str, timeout: float = 20) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {marker!r} on the terminal; saw: {seen[-500:]!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                seen += os.read(fd, 4096).decode("utf-8", "replace")
            except OSError:  # the child closed the terminal
                break
    return seen


def test_manual_items_are_asked_on_a_terminal(site_dir, cli):
    write_checklist(site_dir / "checklists", "mini", [
        {"id": "seals", "title": {"ru": "Пломбы", "en": "Seals"}, "manual": {"ru": "Пломбы целы?", "en": "Seals intact?"}},
        {"id": "phone", "title": "Phone", "manual": "Phone works?", "severity": "warning"},
    ])  # fmt: skip
    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "ppe_tech", "check", "run", "mini", "--lang", "en"],
        stdin=terminal, stdout=terminal, stderr=terminal, env={**os.environ, "COLUMNS": "160"},
    )  # fmt: skip
    os.close(terminal)
    try:
        _read_until(controller, "Seals intact? [yes/no/skip]")
        os.write(controller, b"maybe\n")
        _read_until(controller, "answer yes, no or skip")
        os.write(controller, b"yes\n")
        _read_until(controller, "comment")
        os.write(controller, b"checked at 07:40\n")
        _read_until(controller, "Phone works?")
        os.write(controller, b"no\n")
        _read_until(controller, "comment")
        os.write(controller, b"no dial tone\n")
        screen = _read_until(controller, "PASSED")
        assert child.wait(timeout=20) == 0
    finally:
        child.kill()
        os.close(controller)
    assert "on time" in screen or "no deadline" in screen or "late by" in screen
    results = {
        r["item_id"]: r
        for r in json.loads(cli("check", "show", "latest", "--json").stdout)["results"]
    }
    assert (
        results["seals"]["status"] == "pass" and results["seals"]["comment"] == "checked at 07:40"
    )
    assert results["phone"]["status"] == "fail" and results["phone"]["comment"] == "no dial tone"
