"""The wheel a user installs holds every module and data file (an editable install hides gaps)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_every_subpackage_is_listed():
    listed = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    on_disk = {
        ".".join(folder.relative_to(REPO).parts)
        for folder in (REPO / "ppe_tech").rglob("*")
        if folder.is_dir() and "__pycache__" not in folder.parts and any(folder.glob("*.py"))
    } | {"ppe_tech"}
    assert on_disk <= listed, f"add to pyproject packages: {sorted(on_disk - listed)}"


@pytest.mark.slow
def test_wheel_contents(tmp_path):
    # build from a clean copy: setuptools reuses a stale build/ folder in the checkout
    source = tmp_path / "src"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "build",
            "*.egg-info",
            "__pycache__",
            ".pytest_cache",
            "demo-site",
            "bench",
            "tests",
        ),
    )
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
    )
    if built.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {built.stderr.strip()[-200:]}")
    names = set(zipfile.ZipFile(next(tmp_path.glob("ppe_tech-*.whl"))).namelist())
    for module in REPO.joinpath("ppe_tech").rglob("*.py"):
        assert module.relative_to(REPO).as_posix() in names
    for data in (
        "checklists/pre-exam.yaml",
        "templates/report.css",
        "templates/fonts/DejaVuSans.ttf",
        "demo_data/walkway.mp4",
        "site_starter.yaml",
        "locale/ru/LC_MESSAGES/ppe_tech.mo",
    ):
        assert f"ppe_tech/{data}" in names, data
