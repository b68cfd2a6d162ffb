"""The documentation stays true: every command has help and a place in the docs, the exit-code
table is the one in errors.py, the code map names what is in the tree (after sqlite-utils'
tests/test_docs.py).

New command groups need only their docs: the tree is walked through the lazy root group.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from ppe_tech.cli import cli
from ppe_tech.errors import ExitCode, exit_code_table

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
DOCS = README + "".join(p.read_text(encoding="utf-8") for p in sorted(REPO.glob("docs/*.md")))


def _walk(command: click.Command, path: tuple[str, ...], ctx: click.Context):
    yield path, command
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"{' '.join(path + (name,))} is listed but cannot be loaded"
            yield from _walk(sub, path + (name,), click.Context(sub, parent=ctx, info_name=name))


COMMANDS = list(_walk(cli, (), click.Context(cli, info_name="ppe-tech")))
IDS = [" ".join(path) or "(root)" for path, _ in COMMANDS]


def test_the_walk_reaches_the_lazy_groups():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"check run", "pak verify", "report sign", "keys init"} <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_command_has_help(path, command):
    assert (command.help or command.short_help or "").strip(), f"ppe-tech {' '.join(path)}"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), f"ppe-tech {' '.join(path)} {param.opts[0]}: no help"


@pytest.mark.parametrize(("path", "command"), COMMANDS[1:], ids=IDS[1:])
def test_every_command_is_in_the_docs(path, command):
    """Named in README.md or docs/*.md as `ppe-tech GROUP CMD` (or `GROUP CMD` in backticks)."""
    words = " ".join(path)
    assert f"ppe-tech {words}" in DOCS or f"`{words}" in DOCS, (
        f"ppe-tech {words} is documented nowhere: add it to README.md or docs/"
    )


def _section(text: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}.*?$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def test_readme_exit_codes_are_the_table_in_errors_py():
    section = _section(README, "Exit codes")
    table = "\n".join(line for line in section.splitlines() if line.startswith("|")) + "\n"
    assert table == exit_code_table(), "README.md's exit codes differ from errors.MEANINGS"
    assert [int(code) for code in ExitCode] == [0, 1, 2, 3, 4, 5, 70, 130]


def _code_map() -> set[str]:
    """Paths the README's "where the code is" table names (bare names: beside the first)."""
    section = _section(README, "Using it from Python, and where the code is")
    named: set[str] = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        first = line.split("|")[1]
        folder = ""
        for token in re.findall(r"`([^`]+)`", first):
            path = token.rstrip("/")
            if "/" in path:  # a path from the top; bare names after it are beside it
                folder = path.rsplit("/", 1)[0] + "/"
                named.add(path)
            else:
                named.add(folder + path)
    return named


def test_the_code_map_matches_the_tree():
    named = _code_map()
    missing_on_disk = sorted(p for p in named if not (REPO / p).exists())
    assert not missing_on_disk, f"README code map names what is not in the tree: {missing_on_disk}"
    in_tree = {
        f"ppe_tech/{entry.name}"
        for entry in (REPO / "ppe_tech").iterdir()
        if (entry.suffix == ".py" and entry.stem not in ("__init__", "__main__"))
        or (entry.is_dir() and any(entry.glob("*.py")))
    }
    unmapped = sorted(in_tree - named)
    assert not unmapped, f"add to README's 'where the code is' map: {unmapped}"
