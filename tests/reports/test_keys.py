"""Keys: make, import, load; every key problem is one line and exit code 5."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta

import pytest

from ppe_tech.errors import ExitCode, KeysError
from tests.conftest import one_error_line
from tests.reports.conftest import PASSPHRASE, make_ca_and_p12


def test_init_makes_private_key_and_signing_certificate(site_dir, cli, monkeypatch):
    from cryptography import x509

    monkeypatch.setenv("PPE_KEY_PASSPHRASE", PASSPHRASE)
    result = cli("keys", "init")
    assert result.exit_code == 0, result.stderr
    key = site_dir / "keys" / "site.key.pem"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert b"ENCRYPTED" in key.read_bytes()
    cert = x509.load_pem_x509_certificate((site_dir / "keys" / "site.cert.pem").read_bytes())
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    shown = cli("keys", "show", "--json")
    assert shown.exit_code == 0 and '"valid_now": true' in shown.stdout
    # refuses to overwrite
    again = cli("keys", "init")
    one_error_line(again, ExitCode.KEYS, "already exists")


def test_init_without_passphrase_env(cli, monkeypatch):
    monkeypatch.delenv("PPE_KEY_PASSPHRASE", raising=False)
    one_error_line(cli("keys", "init"), ExitCode.KEYS, "PPE_KEY_PASSPHRASE")


def test_wrong_passphrase_missing_key_expired_certificate(english, rsite, cli, monkeypatch):
    from ppe_tech.keys import init_keys, load_signing_key

    monkeypatch.setenv("PPE_KEY_PASSPHRASE", "not the passphrase")
    one_error_line(cli("report", "readiness"), ExitCode.KEYS, "wrong passphrase")

    monkeypatch.setenv("PPE_KEY_PASSPHRASE", PASSPHRASE)
    (rsite.folder / "keys" / "site.key.pem").unlink()
    one_error_line(cli("report", "readiness"), ExitCode.KEYS, "not found", "keys init")

    (rsite.folder / "keys" / "site.cert.pem").unlink()
    init_keys(rsite, PASSPHRASE.encode(), days=30, now=datetime.now(UTC) - timedelta(days=400))
    one_error_line(cli("report", "readiness"), ExitCode.KEYS, "expired")
    with pytest.raises(KeysError, match="expired"):
        load_signing_key(rsite)


def test_key_not_matching_certificate(rsite, tmp_path):
    from ppe_tech.keys import init_keys, load_signing_key
    from ppe_tech.site import load_site
    from tests.conftest import write_site
    from tests.reports.conftest import russian_config

    other = load_site(write_site(tmp_path / "other", russian_config()))
    init_keys(other, PASSPHRASE.encode())
    (rsite.folder / "keys" / "site.cert.pem").write_bytes(
        (other.folder / "keys" / "site.cert.pem").read_bytes()
    )
    with pytest.raises(KeysError, match="does not match"):
        load_signing_key(rsite)


def test_import_p12_from_an_organisation_ca(site_dir, tmp_path, cli, monkeypatch):
    from ppe_tech.keys import load_signing_key
    from ppe_tech.site import load_site

    monkeypatch.setenv("PPE_KEY_PASSPHRASE", PASSPHRASE)
    ca_pem, p12 = make_ca_and_p12(tmp_path, b"p12-pass")
    monkeypatch.setenv("P12_PASS", "wrong")
    one_error_line(
        cli("keys", "import", str(p12), "--p12-passphrase-env", "P12_PASS"),
        ExitCode.KEYS,
        "wrong passphrase",
    )
    monkeypatch.setenv("P12_PASS", "p12-pass")
    result = cli("keys", "import", str(p12), "--p12-passphrase-env", "P12_PASS")
    assert result.exit_code == 0, result.stderr
    assert "Test Regional CA" in result.stdout
    key, cert, chain = load_signing_key(load_site(site_dir))
    assert [c.subject.rfc4514_string() for c in chain] == ["CN=Test Regional CA"]
    assert stat.S_IMODE(os.stat(site_dir / "keys" / "site.key.pem").st_mode) == 0o600
