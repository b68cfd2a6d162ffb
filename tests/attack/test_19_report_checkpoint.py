"""Issue 10 item 19: after the log is tampered with, a new access-log report says on its first
page that the log could not be checkpointed, and ``report verify`` fails it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ppe_tech.errors import ExitCode
from tests.pak.helpers import edit, raw
from tests.reports.conftest import add_log, keyed_site, pdf_text

BOUND_S = 60


@pytest.fixture
def logsite(site_dir, monkeypatch):
    from ppe_tech.store import connect

    site = keyed_site(site_dir, monkeypatch)
    db = connect(site.db_path)
    add_log(site, db)
    db.close()
    return site


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_report_of_a_tampered_log_says_so_and_fails_verify(logsite, cli, lang):
    attacker = raw(logsite.db_path)  # plain sqlite3, the append-only triggers dropped
    edit(attacker, 2, note="edited")
    attacker.close()
    started = time.monotonic()
    made = cli("report", "access-log", "--lang", lang, "--json")
    assert time.monotonic() - started < BOUND_S
    assert made.exit_code == 0, made.stderr
    assert "could not be checkpointed" in made.stderr and "Traceback" not in made.stderr
    path = Path(json.loads(made.stdout)["file"])
    first_page = pdf_text(path).split("Страница 1 из" if lang == "ru" else "Page 1 of")[0]
    needle = "Контрольная точка журнала не создана" if lang == "ru" else "No log checkpoint"
    assert needle in first_page
    verify = cli("report", "verify", str(path), "--json")
    assert verify.exit_code == ExitCode.FAILED
    checks = {c["name"]: c for c in json.loads(verify.stdout)["checks"]}
    assert checks["checkpoint"]["ok"] is False
    assert "could not be checkpointed" in checks["checkpoint"]["message"]
