"""Manual items asked on a real terminal (a pseudo-terminal), as the technician sees them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time

from tests.checklist.conftest import on_a_terminal, read_until, write_checklist


@contextlib.contextmanager
def check_run_on_a_terminal(checklist: str):
    """``ppe-tech check run CHECKLIST --lang en`` with a pseudo-terminal as its terminal."""
    with on_a_terminal("check", "run", checklist, "--lang", "en") as terminal:
        yield terminal


def test_manual_items_are_asked_on_a_terminal(site_dir, cli):
    write_checklist(
        site_dir / "checklists",
        "mini",
        [
            {
                "id": "seals",
                "title": {"ru": "Пломбы", "en": "Seals"},
                "manual": {"ru": "Пломбы целы?", "en": "Seals intact?"},
            },
            {"id": "phone", "title": "Phone", "manual": "Phone works?", "severity": "warning"},
        ],
    )
    with check_run_on_a_terminal("mini") as (controller, child):
        read_until(controller, "Seals intact? [yes/no/skip]")
        os.write(controller, b"maybe\n")
        read_until(controller, "answer yes, no or skip")
        os.write(controller, b"yes\n")
        read_until(controller, "comment")
        os.write(controller, b"checked at 07:40\n")
        read_until(controller, "Phone works?")
        os.write(controller, b"no\n")
        read_until(controller, "comment")
        os.write(controller, b"no dial tone\n")
        screen = read_until(controller, "PASSED")
        assert child.wait(timeout=20) == 0
    assert "on time" in screen or "no deadline" in screen or "late by" in screen
    results = {
        r["item_id"]: r
        for r in json.loads(cli("check", "show", "latest", "--json").stdout)["results"]
    }
    assert (
        results["seals"]["status"] == "pass" and results["seals"]["comment"] == "checked at 07:40"
    )
    assert results["phone"]["status"] == "fail" and results["phone"]["comment"] == "no dial tone"


def test_ctrl_c_keeps_what_was_done(site_dir, cli, tmp_path):
    (tmp_path / "present").write_text("x")
    write_checklist(
        site_dir / "checklists",
        "mini",
        [
            {
                "id": "file",
                "title": "File",
                "probe": {"type": "file", "path": str(tmp_path / "present")},
            },
            {
                "id": "slow",
                "title": "Slow",
                "probe": {"type": "command", "argv": ["sleep", "30"]},
                "timeout": "25s",
            },
            {"id": "seals", "title": "Seals", "manual": "Seals intact?"},
            {"id": "phone", "title": "Phone", "manual": "Phone works?"},
        ],
    )
    with check_run_on_a_terminal("mini") as (controller, child):
        read_until(controller, "Seals intact?")
        os.write(controller, b"yes\n")
        read_until(controller, "comment")
        os.write(controller, b"\n")
        read_until(controller, "Phone works?")
        time.sleep(0.5)
        began = time.monotonic()
        child.send_signal(signal.SIGINT)  # what Ctrl-C on the terminal sends
        screen = read_until(controller, "stored as run")
        assert child.wait(timeout=10) == 130
        assert time.monotonic() - began < 8  # did not wait for the 25 s probe
    assert "interrupted" in screen
    run = json.loads(cli("check", "show", "latest", "--json").stdout)
    statuses = {r["item_id"]: r["status"] for r in run["results"]}
    assert run["status"] == "interrupted"
    assert statuses == {
        "file": "pass",
        "slow": "interrupted",
        "seals": "pass",
        "phone": "interrupted",
    }
