"""`ppe-tech demo`: the whole exam day on the embedded demo site, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ppe_tech.demo import STEPS


def run_ppe(
    *args: str, env: dict | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ppe_tech", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_demo_end_to_end(tmp_path: Path):
    folder = tmp_path / "demo"
    done = run_ppe("demo", "--dir", str(folder))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    for name, _ in STEPS:
        assert f"  {name}: " in done.stdout, (name, done.stdout)
    assert (folder / "ppe.yaml").is_file()
    assert f"ppe-tech --site {folder} serve" in done.stdout  # how to open the console

    # the demo site is a normal site afterwards
    runs = json.loads(run_ppe("--site", str(folder), "check", "list", "--json").stdout)["runs"]
    assert runs and runs[-1]["timeliness"] == "on time"
    shown = json.loads(run_ppe("--site", str(folder), "check", "show", "latest", "--json").stdout)
    assert {"Staff room", "Video surveillance"} <= {r["section_en"] for r in shown["results"]}


def test_demo_refuses_an_existing_site(tmp_path: Path, site_dir: Path):
    done = run_ppe("demo", "--dir", str(site_dir))
    assert done.returncode == 2
    assert "already exists" in done.stderr and "Traceback" not in done.stderr
