"""Issue 10 item 1: a ${VAR} secret is masked in every field of a checklist run, everywhere.

The secret reaches a checklist title (through checks.vars), a probe's measured value and
expected value, and a manual item's comment; none of the outputs (terminal table, --json,
--junit), the check_results rows nor any file of the site may hold it.
"""

from __future__ import annotations

import json
import sqlite3

from tests.attack.conftest import assert_clean_exit, assert_not_leaked
from tests.checklist.conftest import write_checklist
from tests.conftest import minimal_config, write_site

SECRET = "Portal-Token-93f1"
BOUND_S = 60  # generous: the run itself takes about a second


def _site(site_dir):
    config = minimal_config(checks={"vars": {"token": "${PORTAL_TOKEN}"}})
    write_site(site_dir, config)
    write_checklist(
        site_dir / "checklists",
        "leaky",
        [
            {
                "id": "echo",
                "title": "Token {{ site.checks.vars.token }}",
                "probe": {
                    "type": "command",
                    "argv": ["echo", "{{ site.checks.vars.token }}"],
                    "stdout": "{{ site.checks.vars.token }}",
                },
            },
            {
                "id": "note",
                "title": {"ru": "Ввод {{ site.checks.vars.token }}", "en": "Typed"},
                "manual": "Token {{ site.checks.vars.token }} pasted?",
            },
        ],
        title={
            "ru": "Тест {{ site.checks.vars.token }}",
            "en": "Test {{ site.checks.vars.token }}",
        },
    )


def test_secret_masked_in_every_field_and_output(ppe, site_dir, tmp_path):
    _site(site_dir)
    env = {"PORTAL_TOKEN": SECRET}
    junit = tmp_path / "out.xml"
    args = ("check", "run", "leaky", "--no-input", f"--confirm=note=I typed {SECRET} here")
    table = ppe(*args, "--junit", str(junit), env=env, timeout=BOUND_S)
    assert_clean_exit(table, 0)
    assert "PASSED" in table.stdout and "***" in table.stdout
    as_json = ppe(*args, "--json", env=env, timeout=BOUND_S)
    assert_clean_exit(as_json, 0)
    results = json.loads(as_json.stdout)["runs"][0]["results"]
    echo = next(r for r in results if r["item_id"] == "echo")
    assert echo["value"] == "exit 0: ***" and echo["title_en"] == "Token ***"
    note = next(r for r in results if r["item_id"] == "note")
    assert note["comment"] == "I typed *** here" and note["title_ru"] == "Ввод ***"
    shown = ppe("check", "show", "latest", env=env, timeout=BOUND_S)
    assert_clean_exit(shown, 0)
    with sqlite3.connect(site_dir / "ppe.db") as conn:
        rows = conn.execute("SELECT * FROM check_results").fetchall()
        runs = conn.execute("SELECT * FROM check_runs").fetchall()
    assert rows and SECRET not in repr(rows) and SECRET not in repr(runs)
    assert_not_leaked(SECRET, table, as_json, shown, junit, site_dir)
