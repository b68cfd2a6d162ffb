"""Issue 15 item 5: ``ppe-tech check`` is readable at 80 columns.

``check run`` prints the items to fix first, one each, and a one-line verdict; the whole table
only with ``--verbose``. No line is wider than the terminal, no id or date is cut ("…"), no
title is broken inside a word, and a progress bar that waits says what it waits for.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tests.checklist.conftest import on_a_terminal, read_until, screen_text, write_checklist
from tests.conftest import ru_run

VERDICT = re.compile(
    r"^(НЕ ПРОЙДЕНО|ПРОЙДЕНО): пройдено (\d+) из (\d+) · .+ \(срок \d\d\.\d\d \d\d:\d\d MSK\)$"
)


@pytest.fixture
def demo_copy(demo_ru, tmp_path):
    return shutil.copytree(demo_ru, tmp_path / "demo", symlinks=True)


def _assert_fits(out: str, width: int = 80) -> list[str]:
    lines = out.splitlines()
    wide = [line for line in lines if len(line.rstrip()) > width]
    assert not wide, f"wider than {width}: {wide}"
    assert "…" not in out, "something was cut"
    return lines


def _assert_words_whole(out: str, texts: list[str]) -> None:
    """Every word of ``texts`` is printed whole (rich broke titles mid-word at 80 columns)."""
    printed = set(re.findall(r"[\w-]+", out))
    for text in texts:
        broken = [w for w in re.findall(r"[\w-]+", text) if w not in printed]
        assert not broken, f"{text!r}: {broken} not printed whole"


def _stored(site, ref="latest") -> dict:
    return json.loads(ru_run(site, "check", "show", ref, "--json").stdout)


def test_check_run_prints_the_items_to_fix_and_a_verdict(demo_copy):
    ran = ru_run(demo_copy, "check", "run", "--no-input", columns=80)
    assert ran.returncode == 1, ran.stderr
    lines = _assert_fits(ran.stdout)
    run = _stored(demo_copy)
    to_fix = [r for r in run["results"] if r["status"] != "pass"]
    assert to_fix and any(r["severity"] == "critical" for r in to_fix)
    fix_at = lines.index(f"Исправьте: {len(to_fix)}")
    verdicts = [i for i, line in enumerate(lines) if VERDICT.match(line.rstrip())]
    assert len(verdicts) == 1, f"no one-line verdict in: {ran.stdout}"
    passed, total = VERDICT.match(lines[verdicts[0]].rstrip()).groups()[1:]
    assert (int(passed), int(total)) == (len(run["results"]) - len(to_fix), len(run["results"]))
    item_lines = lines[fix_at + 1 : verdicts[0]]
    starts = [line.split()[0] for line in item_lines if line.startswith("  ") and line[2] != " "]
    assert starts == sorted(
        (r["item_id"] for r in to_fix),
        key=lambda i: next(
            (r["severity"] != "critical", r["position"]) for r in to_fix if r["item_id"] == i
        ),
    ), "one line each, the critical items first"
    _assert_words_whole(ran.stdout, [r["title_ru"] for r in to_fix])
    assert "пункт" not in ran.stdout and "┃" not in ran.stdout  # no table without --verbose
    passing = [r["item_id"] for r in run["results"] if r["status"] == "pass"]
    assert not any(re.search(rf"\b{re.escape(i)}\b", ran.stdout) for i in passing)


def test_verbose_adds_every_item_in_a_table(demo_copy):
    ran = ru_run(demo_copy, "check", "run", "--no-input", "--verbose", columns=80)
    assert ran.returncode == 1, ran.stderr
    lines = _assert_fits(ran.stdout)
    run = _stored(demo_copy)
    verdict = next(i for i, line in enumerate(lines) if VERDICT.match(line.rstrip()))
    table = "\n".join(lines[verdict + 1 :])
    assert "пункт" in table and "статус" in table
    for r in run["results"]:
        assert re.search(rf"│ {re.escape(r['item_id'])}\s", table), f"{r['item_id']} not whole"
    _assert_words_whole(table, [r["title_ru"] for r in run["results"]])
    _assert_words_whole(table, [r["section_ru"] for r in run["results"]])


def test_check_show_at_80_columns(demo_ru):
    shown = ru_run(demo_ru, "check", "show", "latest", columns=80)
    assert shown.returncode == 0, shown.stderr
    _assert_fits(shown.stdout)
    run = _stored(demo_ru)
    for r in run["results"]:
        assert re.search(rf"│ {re.escape(r['item_id'])}\s", shown.stdout), r["item_id"]
    _assert_words_whole(shown.stdout, [r["title_ru"] for r in run["results"]])


def test_check_list_keeps_ids_and_dates_whole(demo_copy):
    ru_run(demo_copy, "check", "run", "day-before", "--no-input", columns=80)  # a second run
    listed = ru_run(demo_copy, "check", "list", columns=80)
    assert listed.returncode == 0, listed.stderr
    _assert_fits(listed.stdout)
    runs = json.loads(ru_run(demo_copy, "check", "list", "--json").stdout)["runs"]
    assert len(runs) == 2
    for run in runs:
        row = next(line for line in listed.stdout.splitlines() if f" {run['checklist']} " in line)
        assert run["exam_id"] in row.split()
        assert re.search(r"\b\d\d\.\d\d \d\d:\d\d\b", row), row
    assert "(MSK)" in listed.stdout  # the zone the times are in


def test_a_waiting_progress_bar_names_what_it_waits_for(site_dir, tmp_path):
    (tmp_path / "present").write_text("x")
    write_checklist(
        site_dir / "checklists",
        "slow",
        [
            {"id": "file", "title": "File", "probe": {"type": "file", "path": str(tmp_path)}},
            {
                "id": "slow-probe",
                "title": "Slow",
                "probe": {"type": "command", "argv": ["sleep", "3"]},
                "timeout": "20s",
            },
        ],
    )
    with on_a_terminal("check", "run", "slow", "--lang", "ru", columns=80) as (controller, child):
        seen = read_until(controller, "ждём: slow-probe (до ")
        seen += read_until(controller, "ПРОЙДЕНО")
        assert child.wait(timeout=20) == 0
    screen = screen_text(seen)
    waiting = [line for line in screen.splitlines() if "ждём: slow-probe" in line]
    assert "и ещё 1" in waiting[0]  # at first both probes run
    done_one = [line for line in waiting if " 1/2 " in line]  # the file probe is done
    left = [int(re.search(r"\(до (\d+) с\)$", line.rstrip()).group(1)) for line in done_one]
    assert left and left[0] <= 20 and left[-1] <= 18, left  # how long it may still take
    assert max(len(line) for line in screen.splitlines()) <= 80
