"""Every third-party module the package imports is declared where the install puts it: the
base dependencies or the `full` extra (scripts/install, so scripts/demo, installs no more).
A module only the tests declare is missing on a technician's machine: the demo once stopped
at its reports with "No module named 'pypdf'"."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _imported_top_modules() -> set[str]:
    found = set()
    for path in (REPO / "ppe_tech").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"ppe_tech", "__future__"}


def _with_requirements(names: set[str]) -> set[str]:
    """The distributions and, recursively, what they require (outside their own extras)."""
    todo, closure = list(names), set(names)
    while todo:
        try:
            needs = requires(todo.pop()) or []
        except PackageNotFoundError:
            continue
        for requirement in needs:
            if "extra ==" in requirement:
                continue
            if (name := _name(requirement)) not in closure:
                closure.add(name)
                todo.append(name)
    return closure


def test_every_imported_distribution_is_installed_by_scripts_install():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = _with_requirements(
        {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["full"]}
    )
    owners = packages_distributions()
    missing = {}
    for module in sorted(_imported_top_modules()):
        distributions = {_name(d) for d in owners.get(module, [module])}
        if not distributions & declared:
            missing[module] = sorted(distributions)
    assert missing == {}, f"imported by ppe_tech but not in dependencies or [full]: {missing}"
