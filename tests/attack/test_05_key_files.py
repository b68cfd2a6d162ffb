"""Issue 10 item 5: key files readable by others or unencrypted are never used silently."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ppe_tech.errors import ExitCode
from tests.reports.conftest import (
    CAMERAS,
    EXAM,
    add_archive,
    add_camera_run,
    add_checklist_run,
    add_log,
    give_own_key,
    keyed_site,
)

BOUND_S = 60  # generous: rendering and signing one report


@pytest.fixture
def populated(site_dir, monkeypatch):
    from ppe_tech.store import connect

    monkeypatch.setenv("PPE_LANG", "en")  # the tests read English messages (the site is Russian)
    site = keyed_site(site_dir, monkeypatch)
    db = connect(site.db_path)
    add_checklist_run(db)
    add_camera_run(site, db, len(CAMERAS))
    add_archive(db)
    add_log(site, db)
    yield site
    db.close()


@pytest.fixture
def conn(populated):
    from ppe_tech.store import connect

    db = connect(populated.db_path)
    yield db
    db.close()


def test_group_readable_site_key_warns_on_every_use_with_the_fix(populated, cli):
    key = populated.folder / "keys" / "site.key.pem"
    os.chmod(key, 0o644)
    for _ in range(2):  # every use, not once
        started = time.monotonic()
        result = cli("report", "readiness", "--exam", EXAM)
        assert time.monotonic() - started < BOUND_S
        assert result.exit_code == 0, result.stderr
        assert "can be read by other users" in result.stderr
        assert "chmod 600 keys/site.key.pem" in result.stderr
        assert "Traceback" not in result.stderr


def test_unencrypted_key_warns(populated, cli):
    from cryptography.hazmat.primitives import serialization

    from ppe_tech.keys import load_signing_key

    key, _, _ = load_signing_key(populated)
    path = populated.folder / "keys" / "site.key.pem"
    plain = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(plain)
    os.chmod(path, 0o600)
    result = cli("report", "readiness", "--exam", EXAM)
    assert result.exit_code == 0, result.stderr
    assert "is not encrypted" in result.stderr and "keys init" in result.stderr


def test_head_signing_with_a_key_others_can_read_is_refused(populated, conn, cli, monkeypatch):
    from ppe_tech.reports.core import make_report

    give_own_key(populated, monkeypatch, "head")
    row = make_report(populated, conn, "readiness", EXAM)
    before = Path(row["file"]).read_bytes()
    os.chmod(populated.folder / "keys" / "head.key.pem", 0o640)
    result = cli("report", "sign", row["file"], "--as", "head")
    assert result.exit_code == ExitCode.KEYS
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("ppe-tech: error: refusing to sign as head")
    assert "chmod 600 keys/head.key.pem" in lines[-1]
    assert "Traceback" not in result.stderr
    assert Path(row["file"]).read_bytes() == before
    # once fixed, it signs
    os.chmod(populated.folder / "keys" / "head.key.pem", 0o600)
    assert cli("report", "sign", row["file"], "--as", "head").exit_code == 0
