"""Issue 10 item 14: SIGTERM is handled like Ctrl-C, and probe children die with the run.

A run with a command probe that starts a background ``sleep`` is stopped with SIGTERM
(exit 143) or SIGINT (exit 130): the run is stored as interrupted, and no ``sleep`` of
the probe is left running (today they were left with parent 1). A probe that times out
leaves none either.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time

import psutil
import pytest

from tests.attack.conftest import assert_clean_exit, kill_group, start_ppe
from tests.checklist.conftest import write_checklist

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals and sh are POSIX here")
BOUND_S = 30  # to stop after the signal; it takes well under a second


def sleepers(marker: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if proc.info["cmdline"] and marker in proc.info["cmdline"]:
            found.append(proc)
    return found


def wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _checklist(site_dir, marker: str, timeout: str = "120s") -> None:
    write_checklist(
        site_dir / "checklists",
        "slow",
        [
            {
                "id": "slow",
                "title": "Slow",
                "timeout": timeout,
                "probe": {
                    "type": "command",
                    "argv": ["sh", "-c", f"sleep {marker} & sleep {marker}"],
                },
            },
            {"id": "quick", "title": "Quick", "probe": {"type": "command", "argv": ["true"]}},
        ],
    )


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_stores_the_run_and_kills_the_children(site_dir, signum, code):
    marker = f"{4000 + signum}.{os.getpid() % 1000}"
    _checklist(site_dir, marker)
    proc = start_ppe("check", "run", "slow", "--no-input", site=site_dir)
    try:
        assert wait_for(lambda: len(sleepers(marker)) >= 2, 30), "the probe never started"
        os.kill(proc.pid, signum)
        out, err = proc.communicate(timeout=BOUND_S)
    finally:
        kill_group(proc)
    assert proc.returncode == code, err
    assert b"Traceback" not in err and b"stored as run 1" in err
    assert wait_for(lambda: not sleepers(marker), 5), "probe children outlived the run"
    with sqlite3.connect(site_dir / "ppe.db") as conn:
        status = conn.execute("SELECT status FROM check_runs").fetchall()
        items = dict(conn.execute("SELECT item_id, status FROM check_results").fetchall())
    assert status == [("interrupted",)]
    assert items == {"slow": "interrupted", "quick": "pass"}  # what was done is kept


def test_timed_out_probe_leaves_no_children(ppe, site_dir):
    marker = f"4100.{os.getpid() % 1000}"
    _checklist(site_dir, marker, timeout="2s")
    ran = ppe("check", "run", "slow", "--no-input", timeout=BOUND_S)
    assert_clean_exit(ran, 1)
    assert not sleepers(marker), "a timed-out probe's children are still running"
