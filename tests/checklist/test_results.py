"""Stored checklist runs: written by save_run, read back as typed StoredRun rows."""

from __future__ import annotations

import pytest

from ppe_tech.checklist.answers import parse_confirm
from ppe_tech.checklist.results import StoredRun, list_runs, load_run, save_run
from ppe_tech.checklist.runner import run_checklist
from ppe_tech.errors import ConfigError
from ppe_tech.site import load_site
from ppe_tech.store import connect
from tests.checklist.conftest import write_checklist
from tests.conftest import minimal_config, write_site

ITEMS = [
    {"id": "seals", "title": "Seals", "manual": "Seals intact?"},
    {"id": "spare", "title": "Spare printer", "severity": "warning", "manual": "In place?"},
]


@pytest.fixture
def stored(site_dir):
    write_site(site_dir, minimal_config())
    write_checklist(site_dir / "checklists", "two-manual", ITEMS)
    site = load_site(site_dir)
    from ppe_tech.checklist.model import load_checklist

    checklist = load_checklist("two-manual", site)
    conn = connect(site.db_path)
    ids = []
    for exam_id, answered in (("2026-05-28-math", ("seals",)), (None, ("seals", "spare"))) * 2:
        exam = site.exam(exam_id) if exam_id else None
        run = run_checklist(checklist, site, exam, parse_confirm(answered, "tester"))
        ids.append(save_run(conn, run))
    return conn, ids


def test_list_runs_is_newest_first_limited_and_filtered_by_exam(stored):
    conn, ids = stored
    assert [r.run_id for r in list_runs(conn)] == ids
    assert [r.run_id for r in list_runs(conn, limit=2)] == ids[2:]  # the newest, oldest first
    assert [r.run_id for r in list_runs(conn, exam_id="2026-05-28-math")] == [ids[0], ids[2]]
    assert all(r.results is None for r in list_runs(conn))


def test_load_run_reads_back_what_save_run_wrote(stored):
    conn, ids = stored
    run = load_run(conn, ids[1])
    assert isinstance(run, StoredRun) and run.run_id == ids[1] and run.exam_id is None
    assert [(r.item_id, r.status, r.answered_by) for r in run.results] == [
        ("seals", "pass", "tester"),
        ("spare", "pass", "tester"),
    ]
    assert run.counts == {"pass": 2} and run.timeliness == "no deadline"
    assert load_run(conn, "latest").run_id == ids[-1]
    data = run.to_json()
    assert (
        data["run_id"] == ids[1] and "id" not in data and data["results"][0]["item_id"] == "seals"
    )
    assert "results" not in list_runs(conn)[0].to_json()


@pytest.mark.parametrize("ref", ["x", "99"])
def test_load_run_refuses_unknown_runs(stored, ref):
    conn, _ = stored
    with pytest.raises(ConfigError):
        load_run(conn, ref)
