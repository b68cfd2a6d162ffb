"""Issue 10 item 13: a run the store cannot take is kept in a recovery file, never lost.

The store is locked by another process while ``check run`` is busy: the run waits its busy
timeout, then keeps every result in ``recovery/`` and says how to store it (exit 3); ``check
import`` stores it. A run killed with -9 leaves the results it had. ``cameras verify`` on a
locked store is one line, exit 3, not an internal error.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3

import pytest

from tests.attack.conftest import assert_clean_exit, assert_one_line_error, kill_group, start_ppe
from tests.attack.test_14_sigterm_and_children import wait_for
from tests.checklist.conftest import write_checklist
from tests.conftest import minimal_config, write_site

BUSY_S = 30  # the store's busy timeout (store.connect): how long a write waits for a lock
BOUND_S = BUSY_S + 60


def _checklist(site_dir, seconds: int) -> None:
    write_checklist(
        site_dir / "checklists",
        "slow",
        [
            {
                "id": "slow",
                "title": "Slow",
                "timeout": "60s",
                "probe": {"type": "command", "argv": ["sleep", str(seconds)]},
            },
            {"id": "quick", "title": "Quick", "probe": {"type": "command", "argv": ["true"]}},
            {"id": "seals", "title": "Seals", "manual": "Seals intact?"},
        ],
    )


def _recovery_files(site_dir):
    folder = site_dir / "recovery"
    return sorted(folder.glob("check-*.jsonl")) if folder.is_dir() else []


@pytest.mark.skipif(os.name != "posix", reason="uses sleep(1)")
def test_locked_store_keeps_the_run_in_a_recovery_file(ppe, site_dir):
    _checklist(site_dir, 3)
    proc = start_ppe("check", "run", "slow", "--no-input", "--confirm=seals=by hand", site=site_dir)
    locker = None
    try:
        assert wait_for(lambda: _recovery_files(site_dir), 30), "the run never started"
        locker = sqlite3.connect(site_dir / "ppe.db", isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")  # another program holds the store
        out, err = proc.communicate(timeout=BOUND_S)
    finally:
        kill_group(proc)
        if locker is not None:
            locker.rollback()
            locker.close()
    errors = [line for line in err.decode().splitlines() if line.startswith("ppe-tech: error:")]
    assert proc.returncode == 3 and len(errors) == 1, err
    assert "locked" in errors[0] and "ppe-tech check import" in errors[0]
    (kept,) = _recovery_files(site_dir)
    assert str(kept) in errors[0]
    imported = ppe("check", "import", str(kept), timeout=60)
    assert_clean_exit(imported, 0)
    shown = json.loads(ppe("check", "show", "latest", "--json", timeout=60).stdout)
    assert shown["status"] == "passed"
    assert {r["item_id"]: r["status"] for r in shown["results"]} == {
        "slow": "pass",
        "quick": "pass",
        "seals": "pass",
    }
    assert next(r for r in shown["results"] if r["item_id"] == "seals")["comment"] == "by hand"
    assert not kept.exists()


@pytest.mark.skipif(os.name != "posix", reason="uses sleep(1) and SIGKILL")
def test_killed_run_leaves_what_it_had(ppe, site_dir):
    _checklist(site_dir, 60)
    proc = start_ppe("check", "run", "slow", "--no-input", "--confirm=seals", site=site_dir)
    try:

        def two_results():
            files = _recovery_files(site_dir)
            return files and files[0].read_text().count('"result"') >= 2

        assert wait_for(two_results, 30), "quick and seals never reached the recovery file"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        kill_group(proc)
    (kept,) = _recovery_files(site_dir)
    assert_clean_exit(ppe("check", "import", str(kept), timeout=60), 0)
    shown = json.loads(ppe("check", "show", "latest", "--json", timeout=60).stdout)
    assert shown["status"] == "interrupted"
    assert {r["item_id"] for r in shown["results"]} == {"quick", "seals"}


def test_cameras_verify_on_a_locked_store(ppe, site_dir, refused_port):
    camera = {"id": "c1", "zone": "corridor", "source": f"rtsp://127.0.0.1:{refused_port}/s"}
    write_site(site_dir, minimal_config(cameras=[camera]))
    assert ppe("cameras", "list", timeout=60).returncode == 0  # the store exists, migrated
    locker = sqlite3.connect(site_dir / "ppe.db", isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        ran = ppe("cameras", "verify", timeout=BOUND_S)
    finally:
        locker.rollback()
        locker.close()
    assert_one_line_error(ran, 3, contains="locked")


@pytest.mark.parametrize("content", ["", "not json\n", '{"result": {}}\n', "[1]\n"])
def test_import_of_a_bad_file(ppe, site_dir, content):
    bad = site_dir / "bad.jsonl"
    bad.write_text(content)
    assert_one_line_error(ppe("check", "import", str(bad), timeout=60), 2)
