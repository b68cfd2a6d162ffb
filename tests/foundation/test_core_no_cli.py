"""The core never imports the CLI: every ppe_tech module outside cli/ loads without click."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import ppe_tech

PACKAGE = Path(ppe_tech.__file__).parent

# pkgutil.walk_packages would import ppe_tech.cli itself to walk it: list the files instead
PROBE = """
import importlib, json, sys
names = json.loads(sys.argv[1])
for name in names:
    importlib.import_module(name)
print(json.dumps(sorted(m for m in sys.modules if m == "click" or m.startswith("click."))))
"""


def core_modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[1:2] == ("cli",) or parts[-1] == "__main__":
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_no_core_module_imports_click():
    names = core_modules()
    assert {"ppe_tech.demo", "ppe_tech.siteinit", "ppe_tech.checklist.runner"} <= set(names)
    # a fresh interpreter: pytest itself (and the cli fixture) may have imported click already
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(names)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [], "click imported by the core"


def test_the_probe_catches_a_cli_import():
    # the same probe over a CLI module must see click, or the test above proves nothing
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(["ppe_tech.cli.site"])],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "click" in json.loads(done.stdout.strip().splitlines()[-1])
