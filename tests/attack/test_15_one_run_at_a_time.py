"""Issue 10 item 15: two runs of one job at once: the second says who runs, exits 3, or waits.

Two real ``check run`` processes; ``cameras verify`` and ``recordings archive`` against a lock
held by a live process (this test's own); a stale lock (its owner dead) is taken over.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
from datetime import UTC, datetime

import psutil
import pytest

from tests.attack.conftest import assert_clean_exit, assert_one_line_error, kill_group, start_ppe
from tests.attack.test_14_sigterm_and_children import wait_for
from tests.checklist.conftest import write_checklist

BOUND_S = 60
HELD = re.compile(
    r"another (check|camera verification|archive of exam \S+) is running \(pid \d+, started \d\d:\d\d\)"
)


def hold(site_dir, name: str, pid: int | None = None) -> None:
    """A lock file as run_lock writes it, owned by ``pid`` (default: this live process)."""
    proc = psutil.Process(pid or os.getpid())
    (site_dir / ".locks").mkdir(exist_ok=True)
    record = {
        "pid": proc.pid,
        "created": proc.create_time(),
        "started": datetime.now(UTC).isoformat(),
        "command": "test",
    }
    (site_dir / ".locks" / f"{name}.lock").write_text(json.dumps(record))


def _slow_checklist(site_dir) -> None:
    write_checklist(
        site_dir / "checklists",
        "slow",
        [
            {
                "id": "slow",
                "title": "Slow",
                "timeout": "60s",
                "probe": {"type": "command", "argv": ["sleep", "30"]},
            },
        ],
    )


@pytest.mark.skipif(os.name != "posix", reason="uses sleep(1) and signals")
def test_second_check_run_refused_then_waits(ppe, site_dir):
    _slow_checklist(site_dir)
    first = start_ppe("check", "run", "slow", "--no-input", site=site_dir)
    waiter = None
    try:
        assert wait_for(lambda: (site_dir / ".locks" / "check.lock").exists(), 30)
        second = ppe("check", "run", "slow", "--no-input", timeout=BOUND_S)
        line = assert_one_line_error(second, 3)
        assert HELD.search(line) and f"pid {first.pid}" in line, line
        waiter = start_ppe("check", "run", "slow", "--no-input", "--wait", site=site_dir)
        assert not wait_for(lambda: waiter.poll() is not None, 2)  # it waits, it does not exit
        os.kill(first.pid, signal.SIGTERM)
        assert first.wait(BOUND_S) == 143
        probing = lambda: any(c.name() == "sleep" for c in psutil.Process(waiter.pid).children())  # noqa: E731
        assert wait_for(probing, 30), "the waiting run never started once the lock was free"
        os.kill(waiter.pid, signal.SIGTERM)  # it got the lock and runs its own slow probe now
        assert waiter.wait(BOUND_S) == 143
    finally:
        for proc in (first, waiter):
            if proc is not None:
                kill_group(proc)
    with sqlite3.connect(site_dir / "ppe.db") as conn:
        statuses = [row[0] for row in conn.execute("SELECT status FROM check_runs ORDER BY id")]
    assert statuses == ["interrupted", "interrupted"]  # the refused run stored nothing
    assert not (site_dir / ".locks" / "check.lock").exists()


def test_stale_lock_is_taken_over(ppe, site_dir):
    dead = psutil.Popen(["true"] if os.name == "posix" else ["cmd", "/c", "exit"])
    dead.wait()
    hold(site_dir, "check", pid=os.getpid())
    record = json.loads((site_dir / ".locks" / "check.lock").read_text())
    record["pid"] = dead.pid  # a pid that is gone (or reused: its start time differs)
    (site_dir / ".locks" / "check.lock").write_text(json.dumps(record))
    write_checklist(
        site_dir / "checklists",
        "quick",
        [{"id": "q", "title": "Q", "probe": {"type": "command", "argv": ["true"]}}],
    )
    assert_clean_exit(ppe("check", "run", "quick", "--no-input", timeout=BOUND_S), 0)


def test_cameras_verify_while_another_runs(ppe, site_dir):
    hold(site_dir, "cameras")
    line = assert_one_line_error(ppe("cameras", "verify", timeout=BOUND_S), 3)
    assert HELD.search(line) and "camera verification" in line


def test_archive_of_the_same_exam_while_another_runs(ppe, site_dir, tmp_path):
    hold(site_dir, "archive-2026-05-28-math")
    target = tmp_path / "usb"
    target.mkdir()
    ran = ppe(
        "recordings", "archive", "--exam", "2026-05-28-math", "--to", str(target), timeout=BOUND_S
    )
    line = assert_one_line_error(ran, 3)
    assert "another archive of exam 2026-05-28-math is running" in line
    assert list(target.iterdir()) == []  # nothing written
