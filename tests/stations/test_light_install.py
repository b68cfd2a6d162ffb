"""The station path needs only the light dependencies, and CI type-checks it for Windows."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.stations.test_station_run import CONFIRMS

HEAVY = [
    "cv2",
    "numpy",
    "weasyprint",
    "pyhanko",
    "pyhanko_certvalidator",
    "watchdog",
    "wsdiscovery",
    "uharfbuzz",
    "fontTools",
]

# runs ppe-tech in an interpreter where the `full` extra's modules cannot be imported
WITHOUT_FULL = """
import json, sys
BLOCKED = set(json.loads(sys.argv[1]))
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Block())
sys.argv = ["ppe-tech", *json.loads(sys.argv[2])]
from ppe_tech.cli import main
main()
"""


def without_full(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PPE_SITE"}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_FULL, json.dumps(HEAVY), json.dumps(list(args))],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_base_dependencies_are_light():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    base = " ".join(project["dependencies"]).lower()
    for heavy in ("opencv", "weasyprint", "pyhanko", "numpy"):
        assert heavy not in base
    full = " ".join(project["optional-dependencies"]["full"]).lower()
    assert all(h in full for h in ("opencv", "weasyprint", "pyhanko"))
    assert '"[full]"' in (REPO / "scripts" / "install").read_text()  # demo and tests get it all


def test_station_run_works_without_the_full_extra(checked_site: Path, tmp_path: Path, cli):
    assert (
        cli("station", "enroll", str(tmp_path / "stick"), "--exam", "2026-05-28-math").exit_code
        == 0
    )
    confirms = [a for item in CONFIRMS["print"] for a in ("--confirm", item)]
    done = without_full(
        "--site",
        str(tmp_path / "stick" / "ppe-station"),
        "station",
        "run",
        "--station",
        "print-0001",
        "--out",
        str(tmp_path / "stick" / "results"),
        "--no-input",
        *confirms,
    )
    assert done.returncode == 0, done.stderr
    assert ": passed" in done.stdout


def test_a_heavy_command_without_the_extra_says_so_in_one_line(checked_site: Path):
    done = without_full("--site", str(checked_site), "cameras", "verify")
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("ppe-tech: error: `ppe-tech cameras` needs the full install (")
    assert "pip install 'ppe-tech[full]'" in done.stderr


def test_ci_runs_the_windows_type_check():
    assert ".ci/mypy-station" in (REPO / ".ci" / "run").read_text()
    script = (REPO / ".ci" / "mypy-station").read_text()
    assert '--platform "$platform"' in script and "win32 linux" in script
    for module in (
        "ppe_tech/fsutil.py",
        "ppe_tech/site.py",
        "ppe_tech/checklist/runner.py",
        "ppe_tech/checklist/probes/system.py",
        "ppe_tech/stations/run.py",
    ):
        assert module in script


def test_mypy_win32_catches_a_posix_only_call(tmp_path: Path):
    mypy = shutil.which("mypy", path=str(Path(sys.executable).parent)) or shutil.which("mypy")
    if mypy is None:
        pytest.skip("mypy is not installed (pip install -e '.[test]')")
    module = tmp_path / "posix_only.py"
    module.write_text("import os\n\n\ndef private(fd: int) -> None:\n    os.fchmod(fd, 0o600)\n")

    def check(platform: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [mypy, "--platform", platform, "--no-incremental", str(module)],
            capture_output=True,
            text=True,
            timeout=120,
        )

    windows, linux = check("win32"), check("linux")
    assert windows.returncode == 1 and 'has no attribute "fchmod"' in windows.stdout
    assert linux.returncode == 0, linux.stdout
