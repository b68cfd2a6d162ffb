"""Each person signs with their own key (issue 12 item 1), checked by pyHanko and poppler's pdfsig."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ppe_tech.errors import ExitCode
from tests.conftest import one_error_line, write_site
from tests.reports.conftest import (
    EXAM,
    HEAD_PASSPHRASE,
    PASSPHRASE,
    give_own_key,
    issue_p12,
    make_ca,
    nss_db,
    pdfsig,
    russian_config,
)


def test_head_signature_with_the_technicians_key_is_refused(english, populated, conn, cli):
    """The defect: "as head" was signed with the technician's key (pdfsig named him twice)."""
    from ppe_tech.reports.core import make_report

    row = make_report(populated, conn, "readiness", EXAM)
    before = Path(row["file"]).read_bytes()
    result = cli("report", "sign", row["file"], "--as", "head")
    one_error_line(result, ExitCode.KEYS, "Петров А.А.", "Иванов И.И.", "keys init --person head")
    assert Path(row["file"]).read_bytes() == before  # nothing signed


def test_keys_init_person_issues_a_certificate_naming_the_person(
    english, populated, cli, monkeypatch
):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    monkeypatch.setenv("PPE_KEY_PASSPHRASE_HEAD", HEAD_PASSPHRASE)
    result = cli("keys", "init", "--person", "head")
    assert result.exit_code == 0, result.stderr
    key = populated.folder / "keys" / "head.key.pem"
    assert key.stat().st_mode & 0o777 == 0o600 and b"ENCRYPTED" in key.read_bytes()
    head_cert, root = x509.load_pem_x509_certificates(
        (populated.folder / "keys" / "head.cert.pem").read_bytes()
    )
    assert head_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Петров А.А."
    assert head_cert.subject.get_attributes_for_oid(NameOID.TITLE)[0].value == "руководитель ППЭ"
    assert head_cert.issuer == root.subject and root.subject == root.issuer
    assert not head_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    # the head's passphrase is her own: the site passphrase does not open her key
    from ppe_tech.keys import load_key_file

    with pytest.raises(Exception, match="wrong passphrase"):
        load_key_file(populated, key, key.with_name("head.cert.pem"), PASSPHRASE.encode())
    shown = json.loads(cli("keys", "show", "--json").stdout)
    head = next(p for p in shown["people"] if p["role"] == "head")
    assert head["source"] == "file" and head["person"] == "Петров А.А."
    one_error_line(cli("keys", "init", "--person", "head"), ExitCode.KEYS, "already exists")


def test_person_passphrase_missing_or_wrong(english, populated, cli, monkeypatch):
    monkeypatch.delenv("PPE_KEY_PASSPHRASE_HEAD", raising=False)
    one_error_line(
        cli("keys", "init", "--person", "head"), ExitCode.KEYS, "PPE_KEY_PASSPHRASE_HEAD"
    )
    one_error_line(cli("keys", "init", "--person", "nobody"), ExitCode.USAGE, "staff.nobody")


def test_each_person_signs_with_own_key_pdfsig_names_them(
    populated, conn, cli, tmp_path, monkeypatch
):
    from ppe_tech.keys import cert_path
    from ppe_tech.reports.core import make_report

    nssdir = nss_db(tmp_path / "nss", cert_path(populated))  # trusting the site root
    give_own_key(populated, monkeypatch, "head")
    row = make_report(populated, conn, "readiness", EXAM)
    monkeypatch.setenv("PPE_KEY_PASSPHRASE_HEAD", "not hers")
    monkeypatch.setenv("PPE_LANG", "en")  # the refusal read in English, the verdict in Russian
    one_error_line(
        cli("report", "sign", row["file"], "--as", "head"), ExitCode.KEYS, "wrong passphrase"
    )
    monkeypatch.delenv("PPE_LANG")
    monkeypatch.setenv("PPE_KEY_PASSPHRASE_HEAD", HEAD_PASSPHRASE)
    assert cli("report", "sign", row["file"], "--as", "head").exit_code == 0
    sigs = pdfsig(Path(row["file"]), nssdir)
    assert [(s["field"], s["common_name"]) for s in sigs] == [
        ("technician", "Иванов И.И."),
        ("head", "Петров А.А."),
    ]
    assert all(s["signature"] == "Signature is Valid." for s in sigs), sigs
    assert all(s["certificate"] == "Certificate is Trusted." for s in sigs), sigs
    verify = cli("report", "verify", row["file"])
    assert verify.exit_code == 0, verify.stdout
    assert "руководитель ППЭ: Петров А.А.; сертификат Петров А.А." in verify.stdout
    assert "действительна: да, доверенная: да, свой ключ" in verify.stdout  # a Russian point
    data = json.loads(cli("report", "verify", row["file"], "--json").stdout)
    assert [(s["field"], s["person"], s["own_key"]) for s in data["signatures"]] == [
        ("technician", "Иванов И.И.", True),
        ("head", "Петров А.А.", True),
    ]


def test_verify_fails_a_role_signature_made_with_another_persons_key(populated, conn, cli):
    """A PDF signed "as head" with the technician's key (as the tool did before) fails verify."""
    from ppe_tech.reports.core import make_report
    from ppe_tech.reports.sign import _signed
    from ppe_tech.signers import RoleKey, open_signer, role_key

    row = make_report(populated, conn, "readiness", EXAM)
    tech = role_key(populated, "technician")
    forged = RoleKey("head", "Петров А.А.", "site", tech.cert, tech.chain, key_file=tech.key_file)
    pdf = Path(row["file"]).read_bytes()
    with open_signer(populated, forged, secret_value=PASSPHRASE.encode()) as signer:
        Path(row["file"]).write_bytes(
            _signed(populated, pdf, forged, signer, lang="ru", last_page=0)
        )
    result = cli("report", "verify", row["file"], "--json")
    assert result.exit_code == ExitCode.FAILED
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["signers"]["ok"] is False
    assert (
        "подпись «руководитель ППЭ» (Петров А.А.) сделана ключом Иванов И.И."
        in (checks["signers"]["message"])
    )
    assert checks["signatures"]["ok"] is True  # cryptographically fine: only the person is wrong


def test_p12_naming_someone_else_is_refused_for_the_role(
    english, populated, cli, tmp_path, monkeypatch
):
    _, issuer = make_ca(tmp_path)
    p12 = issue_p12(tmp_path, issuer, b"p12", cn="Иванов И.И.", name="not-head")
    monkeypatch.setenv("PPE_KEY_PASSPHRASE_HEAD", HEAD_PASSPHRASE)
    monkeypatch.setenv("P12", "p12")
    result = cli("keys", "import", "--person", "head", str(p12), "--p12-passphrase-env", "P12")
    one_error_line(result, ExitCode.KEYS, "names Иванов И.И., not Петров А.А.")
    assert not (populated.folder / "keys" / "head.key.pem").exists()


def test_organisation_head_signs_with_own_key(site_dir, cli, monkeypatch):
    from ppe_tech.reports.core import make_report
    from ppe_tech.site import load_site
    from ppe_tech.store import connect
    from tests.reports.conftest import add_checklist_run

    config = russian_config()
    config["staff"]["organisation_head"] = {"name": "Кузнецова О.В.", "position": "директор"}
    write_site(site_dir, config)
    monkeypatch.setenv("PPE_KEY_PASSPHRASE", PASSPHRASE)
    assert cli("keys", "init").exit_code == 0
    site = load_site(site_dir)
    give_own_key(site, monkeypatch, "organisation_head", "director-pass")
    conn = connect(site.db_path)
    add_checklist_run(conn)
    row = make_report(site, conn, "archive", EXAM, allow_incomplete=True)
    conn.close()
    result = cli("report", "sign", row["file"], "--as", "organisation_head")
    assert result.exit_code == 0, result.stderr
    verify = cli("report", "verify", row["file"])
    assert verify.exit_code == 0 and "руководитель организации: Кузнецова О.В." in verify.stdout
