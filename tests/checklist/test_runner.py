"""The runner: parallel probes bounded by their timeouts, manual answers, the deadline, the store."""

from __future__ import annotations

import json
import threading
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import pytest
import yaml

from ppe_tech.checklist.model import load_checklist
from ppe_tech.checklist.probes import PROBE_TYPES, Outcome, ProbeSpec, probe
from ppe_tech.checklist.runner import FAIL, PASS, Answer, run_checklist
from ppe_tech.demo_services import PortalServer
from ppe_tech.site import load_site
from tests.checklist.conftest import write_checklist
from tests.conftest import minimal_config, write_site

_release = threading.Event()


class BlockSpec(ProbeSpec):
    type: Literal["test_block"]


@probe("test_block", BlockSpec)
def _block_forever(spec: BlockSpec, ctx) -> Outcome:
    """A probe that ignores its timeout entirely: only the runner can bound it."""
    _release.wait()
    return Outcome.passed("released")


@pytest.fixture(autouse=True)
def _release_blocked_probes():
    yield
    _release.set()
    _release.clear()


def test_adding_a_probe_type_is_one_function_plus_schema(make_checklist):
    assert "test_block" in PROBE_TYPES
    checklist = make_checklist(
        [{"id": "b", "title": "b", "probe": {"type": "test_block"}, "timeout": "0.2s"}]
    )
    assert checklist.items[0].kind == "test_block"


@pytest.mark.parametrize("hang", ["blocking probe", "hung server"])
def test_100_probes_one_hangs(make_checklist, site_dir, tmp_path, hung_port, hang):
    (tmp_path / "present").write_text("x")
    items = []
    with PortalServer() as portal:
        for n in range(99):
            spec = (
                {"type": "file", "path": str(tmp_path / "present")}
                if n % 2
                else {"type": "tcp", "host": "127.0.0.1", "port": portal.port}
            )
            items.append({"id": f"p{n}", "title": f"probe {n}", "probe": spec, "timeout": "10s"})
        hung_spec = (
            {"type": "test_block"}
            if hang == "blocking probe"
            else {"type": "http", "url": f"http://127.0.0.1:{hung_port}/"}
        )
        items.insert(50, {"id": "hung", "title": "hung", "probe": hung_spec, "timeout": "2s"})
        checklist = make_checklist(items)
        began = time.monotonic()
        result = run_checklist(checklist, load_site(site_dir))
        elapsed = time.monotonic() - began
    assert elapsed < 2 + 1, f"run took {elapsed:.1f}s, beyond the hung probe's 2 s timeout + 1 s"
    by_id = {r.item.id: r for r in result.results}
    assert by_id["hung"].status in ("timeout", "fail")
    if hang == "blocking probe":
        assert by_id["hung"].status == "timeout" and "2s" in by_id["hung"].message
    others = [r for r in result.results if r.item.id != "hung"]
    assert len(others) == 99 and all(r.status == PASS for r in others), [
        r for r in others if not r.passed
    ][:3]
    assert all(r.value for r in others)  # each one measured, not just marked
    assert [r.item.id for r in result.results][50] == "hung"  # results keep checklist order


def _site_with_exam(folder: Path, start: datetime, tz: str = "Asia/Yekaterinburg") -> Path:
    local = start.astimezone(__import__("zoneinfo").ZoneInfo(tz))
    config = minimal_config()
    config["point"]["timezone"] = tz
    config["exams"] = [
        {
            "id": "exam",
            "subject": "Physics",
            "date": local.date().isoformat(),
            "start": local.strftime("%H:%M"),
            "duration": "3h55m",
        }
    ]
    return write_site(folder, config)


@pytest.mark.parametrize(
    ("starts_in", "expected"),
    [
        (timedelta(hours=3), "on time"),
        (timedelta(hours=2, minutes=10), "on time"),
        (timedelta(hours=1), "late by 60 min"),
        (timedelta(minutes=-30), "late by 150 min"),
    ],
)
def test_deadline_two_hours_before_start(tmp_path, starts_in, expected):
    now = datetime.now().astimezone().replace(second=0, microsecond=0)
    folder = _site_with_exam(tmp_path / "deadline-site", now + starts_in)
    write_checklist(folder / "checklists", "mini", [{"id": "m", "title": "m", "manual": "ok?"}])
    site = load_site(folder)
    checklist = load_checklist("mini", site)
    result = run_checklist(checklist, site, site.exam("exam"), {"m": Answer(PASS)}, now=lambda: now)
    assert result.timeliness == expected
    assert result.deadline == (now + starts_in) - timedelta(hours=2)


def test_deadline_is_configurable(tmp_path):
    now = datetime.now().astimezone().replace(second=0, microsecond=0)
    folder = _site_with_exam(tmp_path / "s", now + timedelta(hours=1))
    config = yaml.safe_load((folder / "ppe.yaml").read_text())
    config["checks"] = {"deadline_before": "30m"}
    write_site(folder, config)
    write_checklist(folder / "checklists", "mini", [{"id": "m", "title": "m", "manual": "ok?"}])
    site = load_site(folder)
    result = run_checklist(
        load_checklist("mini", site), site, site.exam("exam"), {"m": Answer(PASS)}, now=lambda: now
    )
    assert result.timeliness == "on time"


def test_manual_items_answered_asked_or_left(make_checklist, site_dir):
    checklist = make_checklist(
        [
            {"id": "seals", "title": "Seals", "manual": "Seals intact?"},
            {"id": "safe", "title": "Safe", "manual": "Safe locked?", "severity": "warning"},
            {"id": "phone", "title": "Phone", "manual": "Phone works?"},
        ]
    )
    asked = []

    def ask(item):
        asked.append(item.id)
        return Answer(FAIL, "no dial tone", "tech") if item.id == "phone" else None

    result = run_checklist(
        checklist, load_site(site_dir), answers={"seals": Answer(PASS, None, "tech")}, ask=ask
    )
    by_id = {r.item.id: r for r in result.results}
    assert asked == ["safe", "phone"]
    assert by_id["seals"].status == "pass" and by_id["seals"].answered_by == "tech"
    assert by_id["safe"].status == "unanswered"
    assert by_id["phone"].status == "fail" and by_id["phone"].comment == "no dial tone"
    assert not result.passed  # a critical manual item failed


def _write_site_checklist(site_dir: Path, items: list[dict], name: str = "mini") -> None:
    write_checklist(site_dir / "checklists", name, items)


def test_cli_run_json_junit_and_store(cli, site_dir, tmp_path):
    with PortalServer() as portal:
        _write_site_checklist(
            site_dir,
            [
                {
                    "id": "portal",
                    "title": {"ru": "Портал", "en": "Portal"},
                    "probe": {"type": "tcp", "host": "127.0.0.1", "port": portal.port},
                },
                {
                    "id": "seals",
                    "title": {"ru": "Пломбы", "en": "Seals"},
                    "manual": "Seals intact?",
                },
                {
                    "id": "spare",
                    "title": "Spare",
                    "manual": "Spare printer?",
                    "severity": "warning",
                },
            ],
        )
        junit = tmp_path / "out" / "junit.xml"
        result = cli(
            "check",
            "run",
            "mini",
            "--confirm",
            "seals=checked at 7:40",
            "--exam",
            "2026-05-28-math",
            "--json",
            "--junit",
            str(junit),
        )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    run = data["runs"][0]
    assert run["status"] == "passed" and run["exam_id"] == "2026-05-28-math"
    assert run["timeliness"].startswith("late by")  # the 2026-05-28 exam is long past
    statuses = {r["item_id"]: r["status"] for r in run["results"]}
    assert statuses == {"portal": "pass", "seals": "pass", "spare": "unanswered"}
    seals = next(r for r in run["results"] if r["item_id"] == "seals")
    assert seals["comment"] == "checked at 7:40" and "Ivanov" in seals["answered_by"]
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "3" and suite.get("failures") == "1"

    listed = cli("check", "list", "--json")
    assert [r["run_id"] for r in json.loads(listed.stdout)["runs"]] == [run["run_id"]]
    shown = cli("check", "show", str(run["run_id"]), "--lang", "ru")
    assert shown.exit_code == 0 and "Пломбы" in shown.stdout and "с опозданием на" in shown.stdout


def test_cli_exit_1_when_a_critical_item_fails(cli, site_dir, refused_port):
    _write_site_checklist(
        site_dir,
        [
            {
                "id": "portal",
                "title": "Portal",
                "probe": {"type": "tcp", "host": "127.0.0.1", "port": refused_port},
            },
            {
                "id": "extra",
                "title": "Extra",
                "severity": "warning",
                "probe": {"type": "tcp", "host": "127.0.0.1", "port": refused_port},
            },
        ],
    )
    result = cli("check", "run", "mini", "--exam", "2026-05-28-math")
    assert result.exit_code == 1
    assert "FAILED: 0 of 2 passed" in result.stdout
    assert "portal" in result.stdout and "extra" in result.stdout  # the items to fix, named
    shown = json.loads(cli("check", "show", "latest", "--json").stdout)
    assert "unreachable" in shown["results"][0]["message"]


def test_cli_warning_failure_still_exit_0(cli, site_dir, refused_port):
    _write_site_checklist(
        site_dir,
        [
            {
                "id": "extra",
                "title": "Extra",
                "severity": "warning",
                "probe": {"type": "tcp", "host": "127.0.0.1", "port": refused_port},
            },
        ],
    )
    assert cli("check", "run", "mini").exit_code == 0


def test_answers_file(cli, site_dir, tmp_path):
    _write_site_checklist(
        site_dir,
        [
            {"id": "seals", "title": "Seals", "manual": "Seals intact?"},
            {"id": "phone", "title": "Phone", "manual": "Phone works?", "severity": "warning"},
        ],
    )
    answers = tmp_path / "answers.yaml"
    answers.write_text("seals: yes\nphone: {answer: no, comment: 'no dial tone'}\n")
    result = cli("check", "run", "mini", "--answers", str(answers), "--json")
    assert result.exit_code == 0, result.output
    results = {r["item_id"]: r for r in json.loads(result.stdout)["runs"][0]["results"]}
    assert results["seals"]["status"] == "pass"
    assert results["phone"]["status"] == "fail" and results["phone"]["comment"] == "no dial tone"


def test_disabled_items_are_not_run(cli, site_dir, refused_port):
    config = yaml.safe_load((site_dir / "ppe.yaml").read_text())
    config["checks"] = {"disabled": ["printer"]}
    write_site(site_dir, config)
    _write_site_checklist(
        site_dir,
        [
            {
                "id": "printer",
                "title": "Printer",
                "probe": {"type": "tcp", "host": "127.0.0.1", "port": refused_port},
            },
            {"id": "seals", "title": "Seals", "manual": "ok?"},
        ],
    )
    result = cli("check", "run", "mini", "--confirm", "seals", "--json")
    assert result.exit_code == 0
    run = json.loads(result.stdout)["runs"][0]
    assert [r["item_id"] for r in run["results"]] == ["seals"]
    assert run["disabled_items"] == ["printer"]


def test_shipped_checklists_load_with_the_starter_site(tmp_path, cli):
    folder = tmp_path / "starter"
    assert cli("init", str(folder)).exit_code == 0
    import os

    os.environ["CAM_PASSWORD"] = "s3cret"
    try:
        site = load_site(folder)
        for name in ("day-before", "pre-exam", "post-exam"):
            checklist = load_checklist(name, site)
            assert len(checklist.items) >= 5
            assert any(i.probe is None for i in checklist.items)  # manual items are part of it
            assert all(i.title.ru and i.title.en for i in checklist.items)
    finally:
        del os.environ["CAM_PASSWORD"]
