"""Issue 15 item 1 for ``ppe-tech check``: on the (Russian) demo point every line is Russian."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.checklist.conftest import on_a_terminal, read_until, screen_text
from tests.conftest import english_left, ru_run


@pytest.fixture
def demo_copy(demo_ru, tmp_path):
    """A copy of the demo point for the commands that store something."""
    return shutil.copytree(demo_ru, tmp_path / "demo", symlinks=True)


def _assert_russian(ran, site, code: int = 0) -> None:
    assert ran.returncode == code, ran.stderr
    assert english_left(ran.stdout + ran.stderr, site) == []


@pytest.mark.parametrize(
    "args",
    [("list",), ("show", "latest"), ("show", "1"), ("list", "--exam", "2026-12-01-russian")],
)
def test_stored_runs_in_russian(demo_ru, args):
    ran = ru_run(demo_ru, "check", *args)
    _assert_russian(ran, demo_ru)
    assert "Исправьте" in ran.stdout or args[0] == "list"


def test_check_run_in_russian(demo_copy):
    # the demo's services have stopped: portal and clock fail, so their findings are shown too
    ran = ru_run(demo_copy, "check", "run", "--no-input")
    _assert_russian(ran, demo_copy, code=1)
    assert "НЕ ПРОЙДЕНО" in ran.stdout and "не подтверждено" in ran.stdout
    verbose = ru_run(demo_copy, "check", "run", "--no-input", "--verbose")
    _assert_russian(verbose, demo_copy, code=1)
    assert "пункт" in verbose.stdout and "критично" in verbose.stdout


def test_json_keeps_the_codes(demo_ru):
    shown = json.loads(ru_run(demo_ru, "check", "show", "latest", "--json").stdout)
    assert shown["status"] == "failed" and shown["timeliness"] == "on time"
    assert {r["status"] for r in shown["results"]} == {"pass", "fail"}
    assert {r["severity"] for r in shown["results"]} == {"critical", "warning"}


def test_errors_and_hints_in_russian(demo_ru, demo_copy):
    for args, code in (
        (("check", "show", "99"), 2),
        (("check", "show", "первая"), 2),
        (("check", "run", "итоговый"), 2),  # typed in Russian: quoted back as typed
        (("check", "run", "--confirm", "пломбы", "--no-input"), 2),
    ):
        ran = ru_run(demo_ru, *args)
        _assert_russian(ran, demo_ru, code=code)
        # the error is the last line (after the exam of the day, when the command names it)
        assert ran.stderr.splitlines()[-1].startswith("ppe-tech: ошибка: "), ran.stderr
    kept = ru_run(demo_ru, "check", "show", "1", "--json").stdout
    run = json.loads(kept)
    run["disabled_items"] = json.dumps(run["disabled_items"])  # as a recovery file holds it
    recovery = demo_copy / "recovery" / "check-kept.jsonl"
    recovery.parent.mkdir(exist_ok=True)
    lines = [json.dumps({"run": run}, ensure_ascii=False)]
    lines += [json.dumps({"result": r}, ensure_ascii=False) for r in run["results"]]
    recovery.write_text("\n".join(lines) + "\n", encoding="utf-8")
    imported = ru_run(demo_copy, "check", "import", str(recovery))
    _assert_russian(imported, demo_copy)
    assert "сохранено как проверка" in imported.stdout


def test_manual_items_asked_in_russian_on_a_terminal(demo_copy):
    (demo_copy / "checklists").mkdir(exist_ok=True)
    (demo_copy / "checklists" / "mini.yaml").write_text(
        """title: {ru: "Проверка штаба", en: "Staff room"}
sections:
  - id: staff
    title: {ru: "Штаб", en: "Staff room"}
    items:
      - id: seals
        title: {ru: "Пломбы целы", en: "Seals intact"}
        manual: {ru: "Пломбы на сейфе целы?", en: "Seals on the safe intact?"}
      - id: phone
        title: {ru: "Телефон работает", en: "Phone works"}
        severity: warning
        manual: {ru: "Телефон в штабе работает?", en: "Staff-room phone works?"}
""",
        encoding="utf-8",
    )
    env = {"PPE_LANG": "ru", "PPE_KEY_PASSPHRASE": "demo"}
    args = ("--site", str(demo_copy), "check", "run", "mini")
    with on_a_terminal(*args, env=env, columns=80) as (controller, child):
        seen = read_until(controller, "Пломбы на сейфе целы?")
        os.write(controller, "может быть\n".encode())
        seen += read_until(controller, "пропустить")
        os.write(controller, "да\n".encode())
        seen += read_until(controller, "комментарий")
        os.write(controller, b"\n")
        seen += read_until(controller, "Телефон в штабе работает?")
        os.write(controller, "нет\n".encode())
        seen += read_until(controller, "комментарий")
        os.write(controller, "нет гудка\n".encode())
        seen += read_until(controller, "ПРОЙДЕНО")
        seen += read_until(controller, "\n")
        assert child.wait(timeout=20) == 0
    screen = screen_text(seen)
    assert "Исправьте: 1" in screen and "нет гудка" in screen
    assert english_left(screen, demo_copy) == []
