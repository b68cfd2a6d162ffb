"""The pak demo step on the demo site's config: a day's log, a checkpoint file, verify, audit."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import yaml

from ppe_tech.demo import demo_config
from ppe_tech.pak import demo as pak_demo
from ppe_tech.pak.audit import audit
from ppe_tech.pak.chain import verify_log
from ppe_tech.pak.journal import list_entries
from ppe_tech.site import load_site
from ppe_tech.store import connect
from ppe_tech.timeutil import utc_now
from tests.pak.conftest import PASSPHRASE


def test_demo_step(tmp_path, key_files, monkeypatch, cli):
    service = SimpleNamespace(port=9, url="http://127.0.0.1:9/")
    config = demo_config(utc_now(), service, service)
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "ppe.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    shutil.copytree(key_files, folder / "keys")
    monkeypatch.setenv("PPE_KEY_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("PPE_SITE", str(folder))
    monkeypatch.setenv("PPE_LANG", "en")  # the words checked here; Russian: test_russian_output
    site = load_site(folder)
    conn = connect(site.db_path)
    logged = []
    demo = SimpleNamespace(
        site=site,
        db=conn,
        folder=folder,
        exam_id=config["exams"][1]["id"],
        past_exam_id=config["exams"][0]["id"],
        log=logged.append,
    )
    summary = pak_demo.run(demo)
    assert "\n" not in summary and "verify OK" in summary and "1 high" in summary
    rows = list_entries(conn)
    assert {r["action"] for r in rows} >= {
        "performance_check",
        "recording_start",
        "card_removal",
        "recording_off",
        "export",
        "angle_adjustment",
    }
    [checkpoint_file] = (folder / "pak").glob("checkpoint-*.txt")
    assert verify_log(site, conn, checkpoints=[("f", checkpoint_file.read_text())]).ok
    findings = audit(site, conn)
    high = [f for f in findings if f.severity == "high"]
    assert [(f.code, f.action) for f in high] == [("camera-action-during-exam", "card_removal")]
    assert not [f for f in findings if f.severity == "medium"], findings
    result = cli("pak", "audit")
    assert result.exit_code == 1 and "memory card removal" in result.stdout
    assert cli("pak", "verify", "--checkpoint", str(checkpoint_file)).exit_code == 0
