"""The head's key on a PKCS#11 token (issue 12 item 2): SoftHSM2 as a real token, end to end.

A token is initialised in the test's tmp folder (SOFTHSM2_CONF points at a config there), an
RSA key is generated on it, ``keys import --person head --pkcs11`` takes it (the site root
issues the head's certificate for the token's public key), a report is countersigned with it
and checked by pyHanko (``report verify``) and by poppler's pdfsig.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ppe_tech.errors import ExitCode
from tests.reports.conftest import EXAM, nss_db, pdfsig

MODULES = ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"]
PIN = "1234-head"


@pytest.fixture
def token(tmp_path, monkeypatch):
    """(module, token label, key label) of a fresh SoftHSM2 token holding an RSA key."""
    module = next((m for m in MODULES if Path(m).is_file()), None)
    if module is None or shutil.which("softhsm2-util") is None:
        pytest.skip("SoftHSM2 not installed (Debian softhsm2; scripts/install --test)")
    pkcs11 = pytest.importorskip("pkcs11")
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            "ppe-head",
            "--pin",
            PIN,
            "--so-pin",
            "12345678",
        ],
        check=True,
        capture_output=True,
    )
    lib = pkcs11.lib(module)
    lib.reinitialize()  # the token was made by another process after the library loaded
    with lib.get_token(token_label="ppe-head").open(rw=True, user_pin=PIN) as session:
        session.generate_keypair(pkcs11.KeyType.RSA, 2048, store=True, label="head-sign")
    return module, "ppe-head", "head-sign"


def test_head_signs_with_a_key_on_a_softhsm_token(
    populated, conn, cli, token, tmp_path, monkeypatch
):
    from ppe_tech.keys import cert_path
    from ppe_tech.reports.core import make_report

    module, token_label, key_label = token
    args = [
        "keys",
        "import",
        "--person",
        "head",
        "--pkcs11",
        module,
        "--token",
        token_label,
        "--key",
        key_label,
    ]
    monkeypatch.setenv("PPE_PIN_HEAD", "0000")
    wrong = cli(*args)
    assert wrong.exit_code == ExitCode.KEYS and "неверный ПИН-код" in wrong.stderr, wrong.stderr
    monkeypatch.setenv("PPE_PIN_HEAD", PIN)
    imported = cli(*args)
    assert imported.exit_code == 0, imported.stderr
    assert not (populated.folder / "keys" / "head.key.pem").exists()  # the key stays on the token
    ref = json.loads((populated.folder / "keys" / "head.token.json").read_text())
    assert ref == {"module": module, "token": token_label, "key": key_label}

    row = make_report(populated, conn, "readiness", EXAM)
    signed = cli("report", "sign", row["file"], "--as", "head")
    assert signed.exit_code == 0, signed.stderr
    verify = cli("report", "verify", row["file"], "--json")
    assert verify.exit_code == 0, verify.stdout
    sigs = json.loads(verify.stdout)["signatures"]
    assert [(s["field"], s["signer"], s["valid"], s["trusted"], s["own_key"]) for s in sigs] == [
        ("technician", "Иванов И.И.", True, True, True),
        ("head", "Петров А.А.", True, True, True),
    ]
    independent = pdfsig(Path(row["file"]), nss_db(tmp_path / "nss", cert_path(populated)))
    assert [(s["field"], s["common_name"]) for s in independent] == [
        ("technician", "Иванов И.И."),
        ("head", "Петров А.А."),
    ]
    assert [s["signature"] for s in independent] == ["Signature is Valid."] * 2
    assert [s["certificate"] for s in independent] == ["Certificate is Trusted."] * 2
