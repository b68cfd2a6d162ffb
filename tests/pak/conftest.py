"""Fixtures of the pak tests: a site with a signing key (made once per session), a store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PASSPHRASE = "pak-test-passphrase"


@pytest.fixture(scope="session")
def key_files(tmp_path_factory) -> Path:
    """A real RSA key and self-signed certificate, made once by ppe_tech.keys.init_keys."""
    from ppe_tech.keys import init_keys
    from ppe_tech.site import load_site

    folder = tmp_path_factory.mktemp("keysite") / "site"
    folder.mkdir()
    (folder / "ppe.yaml").write_text(
        "point: {code: '0101', name: Keys}\n"
        "staff:\n  technician: {name: T, position: t}\n  head: {name: H, position: h}\n"
    )
    init_keys(load_site(folder), PASSPHRASE.encode(), key_size=2048)
    return folder / "keys"


@pytest.fixture
def site(site_dir: Path, key_files: Path, monkeypatch: pytest.MonkeyPatch):
    """The test's site with the session's key copied in, loaded."""
    from ppe_tech.site import load_site

    shutil.copytree(key_files, site_dir / "keys")
    monkeypatch.setenv("PPE_KEY_PASSPHRASE", PASSPHRASE)
    return load_site(site_dir)


@pytest.fixture
def conn(site):
    from ppe_tech.store import connect

    connection = connect(site.db_path)
    yield connection
    connection.close()
