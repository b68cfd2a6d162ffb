"""The command line forgives a typo, takes root options anywhere, and understands да / нет."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from ppe_tech.checklist.answers import answer_status
from ppe_tech.checklist.runner import FAIL, PASS, SKIP
from ppe_tech.cli import hoist_root_options
from ppe_tech.cli.common import confirm
from tests.conftest import write_site


def test_a_mistyped_command_is_suggested(cli):
    result = cli("chek", "run")
    assert result.exit_code == 2
    assert "No such command 'chek'. Did you mean 'check'?" in result.stderr


def test_an_unknown_command_with_nothing_close_gets_no_guess(cli):
    result = cli("zzzzzz")
    assert result.exit_code == 2 and "Did you mean" not in result.stderr


def test_site_after_the_subcommand(cli, tmp_path, monkeypatch):
    other = write_site(tmp_path / "elsewhere")
    monkeypatch.delenv("PPE_SITE")
    monkeypatch.chdir(tmp_path)
    for args in (("site", "show", "--site", str(other)), ("site", "show", f"--site={other}")):
        result = cli(*args, "--json")
        assert result.exit_code == 0, result.stderr
        assert str(other) in result.stdout


@pytest.mark.parametrize(
    ("args", "hoisted"),
    [
        (["cameras", "discover", "--site", "s"], ["--site", "s", "cameras", "discover"]),
        (["check", "run", "--debug", "x"], ["--debug", "check", "run", "x"]),
        (["pak", "add", "--", "--site", "s"], ["pak", "add", "--", "--site", "s"]),
        (["--site", "s", "pak", "list"], ["--site", "s", "pak", "list"]),
    ],
)
def test_hoist_root_options(args, hoisted):
    assert hoist_root_options(args) == hoisted


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("да", PASS),
        ("Д", PASS),
        ("yes", PASS),
        (True, PASS),
        ("нет", FAIL),
        ("н", FAIL),
        ("no", FAIL),
        ("skip", SKIP),
        ("пропустить", SKIP),
        ("может быть", None),
    ],
)
def test_answer_words(word, status):
    assert answer_status(word) == status


@click.command()
def _question() -> None:
    click.echo("saved" if confirm("Use this picture?") else "kept")


@pytest.mark.parametrize(
    ("typed", "outcome"),
    [
        ("да\n", "saved"),
        ("д\n", "saved"),
        ("y\n", "saved"),
        ("нет\n", "kept"),
        ("\n", "kept"),
        ("может\nда\n", "saved"),
    ],
)
def test_confirm_takes_russian_words(typed, outcome):
    result = CliRunner().invoke(_question, input=typed)
    assert result.exit_code == 0
    assert result.stdout.strip().endswith(outcome)


def test_ctrl_c_at_a_prompt_is_interrupted_130(cli, monkeypatch):
    from ppe_tech.cli import pak as pak_cli

    monkeypatch.setattr(pak_cli, "_interactive", lambda no_input, as_json: True)
    result = cli("pak", "add")  # no input at all: the prompt ends like Ctrl-C (click.Abort)
    assert result.exit_code == 130
    assert "ppe-tech: interrupted" in result.stderr and "Aborted!" not in result.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("check", "rn"), "Нет такой команды 'rn'. Возможно, имелось в виду 'run'?"),
        (("pak", "verfy"), "Нет такой команды 'verfy'. Возможно, имелось в виду 'verify'?"),
        (("cameras", "discover", "--bogus"), "Нет такого параметра '--bogus'."),
        (("recordings", "archive", "--to"), "Параметру '--to' нужно значение."),
        (("check", "run", "--lang", "xx"), "Неверное значение '--lang': 'xx' — не одно из:"),
    ],
)
def test_usage_errors_in_the_points_language(demo_ru, args, said):
    """click's own words (Usage:, Error:, No such option) follow the language like ours."""
    from tests.conftest import english_left, ru_run

    result = ru_run(demo_ru, *args)
    assert result.returncode == 2, result.stderr
    assert said in result.stderr
    lines = result.stderr.splitlines()
    assert any(line.startswith("Ошибка: ") for line in lines)
    rest = [line for line in lines if not line.startswith("Использование: ppe-tech ")]
    quoted = re.compile(r"'[^']*'")  # what the user typed, and the names of commands and options
    assert english_left(quoted.sub(" ", "\n".join(rest)), demo_ru) == []


def test_help_frame_in_the_points_language(demo_ru):
    from tests.conftest import ru_run

    result = ru_run(demo_ru, "site", "--help")
    assert result.returncode == 0
    assert "Параметры:" in result.stdout and "Показать эту справку и выйти." in result.stdout
    assert "Команды:" in result.stdout


def test_a_mistyped_subcommand_is_suggested_in_english_too(cli):
    result = cli("check", "rn")
    assert result.exit_code == 2
    assert "No such command 'rn'. Did you mean 'run'?" in result.stderr


def test_the_command_list_in_the_points_language(demo_ru):
    from tests.conftest import ru_run

    result = ru_run(demo_ru, "--help")
    assert result.returncode == 0
    assert "Команды:" in result.stdout and "Параметры:" in result.stdout
    assert "Вести и проверять журнал доступа к видео (ПАК)." in result.stdout
    assert "Keep and audit" not in result.stdout
    assert "инструменты технического специалиста ППЭ" in result.stdout
    assert "Папка пункта (по умолчанию: $PPE_SITE" in result.stdout
    assert "Коды выхода: 0 норма, 1 что-то из проверенного не прошло" in result.stdout


def test_the_command_list_in_english(cli):
    result = cli("--help")
    assert "Keep and audit the video access (PAK) log." in result.stdout
    assert "Exit codes: 0 ok, 1 something checked failed" in result.stdout
