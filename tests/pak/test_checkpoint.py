"""Checkpoints: the documented text format, the store, the CLI, and the public API reports use."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from ppe_tech.pak.chain import create_checkpoint, verify_checkpoint
from ppe_tech.pak.checkpoint import latest_checkpoint
from tests.pak.helpers import fill


def test_checkpoint_format_verifies_independently(site, conn, cli, tmp_path):
    """Rebuild the signed bytes from the documented format and check them with plain `cryptography`."""
    fill(site, conn, 4)
    out = tmp_path / "cp.txt"
    result = cli("pak", "checkpoint", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    assert result.stdout == text
    body, sig_block = text.split("\n\n")
    origin, size, head_b64, time_line = body.split("\n")
    log_id = conn.execute("SELECT log_id FROM pak_meta").fetchone()[0]
    assert origin == f"ppe-tech.pak/0101/{log_id}" and size == "4"
    head = conn.execute("SELECT hash FROM pak_entries WHERE seq = 4").fetchone()[0]
    assert base64.b64decode(head_b64) == head
    assert time_line.startswith("time ") and time_line.endswith("Z")
    dash, name, blob = sig_block.rstrip("\n").split(" ")
    assert dash == "\u2014" and name == "ppe-tech-site-0101"
    raw = base64.b64decode(blob)
    cert = __import__("ppe_tech.keys", fromlist=["x"]).site_certificate(site)
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert raw[:4] == __import__("hashlib").sha256(spki).digest()[:4]
    cert.public_key().verify(raw[4:], (body + "\n").encode(), padding.PKCS1v15(), hashes.SHA256())


def test_public_api_for_reports(site, conn):
    assert latest_checkpoint(conn) is None
    fill(site, conn, 3)
    first = create_checkpoint(site, conn)
    fill(site, conn, 2)
    second = create_checkpoint(site, conn)
    latest = latest_checkpoint(conn)
    assert latest.text == second.text and latest.size == 5 and first.size == 3
    assert len(latest.head_hash) == 64 and latest.created_at.tzinfo is not None
    for cp in (first, second):
        check = verify_checkpoint(site, conn, cp.text)
        assert check.ok and check.signature_ok and check.consistent, check.message


def test_empty_log_checkpoint(site, conn):
    cp = create_checkpoint(site, conn)
    assert cp.size == 0 and verify_checkpoint(site, conn, cp.text).ok


def test_checkpoint_json_and_stored(site, conn, cli):
    fill(site, conn, 2)
    data = json.loads(cli("pak", "checkpoint", "--json").stdout)
    assert data["size"] == 2 and data["file"] is None and data["signers"] == ["ppe-tech-site-0101"]
    stored = conn.execute("SELECT size, head_hash FROM pak_checkpoints").fetchall()
    assert [tuple(r) for r in stored] == [(2, data["head_hash"])]


def test_checkpoint_without_keys_is_exit_5(site, conn, cli, monkeypatch):
    import shutil

    shutil.rmtree(site.folder / "keys")
    result = cli("pak", "checkpoint")
    assert result.exit_code == 5 and "signing key" in result.stderr
    assert result.stderr.count("\n") == 1
    assert conn.execute("SELECT COUNT(*) FROM pak_checkpoints").fetchone()[0] == 0


def test_wrong_passphrase_is_exit_5(site, conn, cli, monkeypatch):
    monkeypatch.setenv("PPE_KEY_PASSPHRASE", "not it")
    result = cli("pak", "checkpoint")
    assert result.exit_code == 5 and "passphrase" in result.stderr


def test_verify_without_certificate_still_checks_the_chain(site, conn, cli):
    import shutil

    fill(site, conn, 2)
    create_checkpoint(site, conn)
    shutil.rmtree(site.folder / "keys")
    result = cli("pak", "verify", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["ok"]
    assert data["checkpoints"][0]["signature_ok"] is None
    assert "signature not checked" in data["checkpoints"][0]["message"]
    # a checkpoint the user hands in must have its signature checked: no certificate, no pass
    text = conn.execute("SELECT text FROM pak_checkpoints").fetchone()[0]
    (site.folder / "cp.txt").write_text(text)
    result = cli("pak", "verify", "--checkpoint", str(site.folder / "cp.txt"))
    assert result.exit_code == 1 and "signature cannot be checked" in result.stdout


def test_actions_listing(cli):
    result = cli("pak", "actions", "--json")
    codes = [a["code"] for a in json.loads(result.stdout)]
    assert codes[:2] == ["performance_check", "recording_start"] and "other" in codes
