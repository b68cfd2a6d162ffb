"""Signatures checked by pyHanko's validator and, independently, by poppler's pdfsig (NSS)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ppe_tech.errors import ExitCode
from tests.conftest import write_site
from tests.reports.conftest import EXAM, PASSPHRASE, make_ca_and_p12, nss_db, pdfsig, russian_config


@pytest.fixture
def ca_site(site_dir, tmp_path, monkeypatch):
    """A site whose key and certificate come from a test CA (.p12), the CA in signing.trust."""
    from ppe_tech.keys import import_p12
    from ppe_tech.site import load_site
    from ppe_tech.store import connect
    from tests.reports.conftest import add_archive, add_checklist_run, add_log

    ca_pem, p12 = make_ca_and_p12(tmp_path, b"p12")
    write_site(site_dir, russian_config(signing={"trust": [str(ca_pem)]}))
    monkeypatch.setenv("PPE_KEY_PASSPHRASE", PASSPHRASE)
    site = load_site(site_dir)
    import_p12(site, p12, b"p12")
    conn = connect(site.db_path)
    add_checklist_run(conn)
    add_archive(conn)
    add_log(site, conn)
    yield site, conn, ca_pem
    conn.close()


def _pyhanko_statuses(site, path: Path):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from ppe_tech.keys import trust_roots
    from ppe_tech.reports.verify import to_asn1_cert

    vc = ValidationContext(trust_roots=[to_asn1_cert(c) for c in trust_roots(site)])
    reader = PdfFileReader(io.BytesIO(path.read_bytes()), strict=False)
    return [validate_pdf_signature(s, vc) for s in reader.embedded_signatures]


def test_signed_report_is_valid_for_pyhanko_and_pdfsig(ca_site, tmp_path):
    from ppe_tech.reports.core import make_report
    from ppe_tech.reports.verify import verify_report

    site, conn, ca_pem = ca_site
    nssdir = nss_db(tmp_path / "nss", ca_pem)
    path = Path(make_report(site, conn, "readiness", EXAM)["file"])
    (status,) = _pyhanko_statuses(site, path)
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    (sig,) = pdfsig(path, nssdir)
    assert sig["signature"] == "Signature is Valid.", sig
    assert sig["certificate"] == "Certificate is Trusted.", sig
    assert verify_report(site, conn, path)["ok"]

    # one flipped byte inside the signed range: both verifiers fail
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    flipped = tmp_path / "flipped.pdf"
    flipped.write_bytes(bytes(data))
    assert pdfsig(flipped, nssdir)[0]["signature"] != "Signature is Valid."
    result = verify_report(site, conn, flipped)
    assert not result["ok"]
    assert result["verdict"].startswith("FAILED")


def test_self_signed_site_certificate_is_trusted_by_pdfsig(rsite, conn, tmp_path):
    """keys init's certificate is its own root: trusted in NSS, it verifies with pdfsig."""
    from ppe_tech.keys import cert_path
    from ppe_tech.reports.core import make_report

    nssdir = nss_db(tmp_path / "nss", cert_path(rsite))
    path = Path(make_report(rsite, conn, "access-log", lang="en")["file"])
    (sig,) = pdfsig(path, nssdir)
    assert (sig["signature"], sig["certificate"]) == (
        "Signature is Valid.",
        "Certificate is Trusted.",
    )


def test_page_change_after_signing_is_reported(ca_site, tmp_path, cli):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    from ppe_tech.reports.core import make_report

    site, conn, _ = ca_site
    path = Path(make_report(site, conn, "archive", EXAM)["file"])
    writer = IncrementalPdfFileWriter(io.BytesIO(path.read_bytes()))
    stream = generic.StreamObject(stream_data=b"q 0 0 1 rg 100 400 200 50 re f Q")
    writer.add_stream_to_page(0, writer.add_object(stream))
    out = io.BytesIO()
    writer.write(out)
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(out.getvalue())

    result = cli("report", "verify", str(changed), "--json")
    assert result.exit_code == ExitCode.FAILED
    verdict = json.loads(result.stdout)
    checks = {c["name"]: c for c in verdict["checks"]}
    assert (
        checks["changes"]["ok"] is False
        and "modified after signature" in checks["changes"]["message"]
    )
    assert checks["signatures"]["ok"] is True  # the signed revision itself is intact
    (status,) = _pyhanko_statuses(site, changed)
    assert status.modification_level.name == "OTHER"


def test_countersigned_report_verifies_with_both_signatures(populated, conn, tmp_path, cli):
    from ppe_tech.keys import cert_path
    from ppe_tech.reports.core import make_report, show_report

    nssdir = nss_db(tmp_path / "nss", cert_path(populated))
    row = make_report(populated, conn, "readiness", EXAM, lang="en")
    first_bytes = Path(row["file"]).read_bytes()
    result = cli("report", "sign", row["file"], "--as", "head")
    assert result.exit_code == 0, result.stderr
    signed = Path(row["file"]).read_bytes()
    assert signed.startswith(first_bytes)  # an incremental update
    statuses = _pyhanko_statuses(populated, Path(row["file"]))
    assert [s.intact and s.valid and s.trusted for s in statuses] == [True, True]
    assert statuses[0].modification_level.name == "FORM_FILLING"
    sigs = pdfsig(Path(row["file"]), nssdir)
    assert [s["field"] for s in sigs] == ["technician", "head"]
    assert all(s["signature"] == "Signature is Valid." for s in sigs), sigs
    assert all(s["certificate"] == "Certificate is Trusted." for s in sigs), sigs
    verify = cli("report", "verify", row["file"])
    assert verify.exit_code == 0, verify.stdout
    assert verify.stdout.startswith("OK:") and "(technician, head)" in verify.stdout
    assert show_report(populated, conn, row["number"])["signers"] == ["technician", "head"]
    again = cli("report", "sign", row["file"], "--as", "head")
    assert again.exit_code == ExitCode.FAILED and "already signed as head" in again.stderr


def test_countersigned_with_a_ca_issued_key(ca_site, cli):
    """With a key from an organisation's CA both signatures are trusted by pyHanko."""
    from ppe_tech.reports.core import make_report

    site, conn, _ = ca_site
    row = make_report(site, conn, "archive", EXAM)
    assert cli("report", "sign", row["file"], "--as", "commission").exit_code == 0
    statuses = _pyhanko_statuses(site, Path(row["file"]))
    assert [(s.intact, s.valid, s.trusted) for s in statuses] == [(True, True, True)] * 2
    assert cli("report", "verify", row["file"]).exit_code == 0


def test_data_and_checkpoint_are_checked_against_the_store(rsite, conn, cli):
    from ppe_tech.reports.core import make_report

    row = make_report(rsite, conn, "access-log")
    assert cli("report", "verify", row["file"]).exit_code == 0
    # the store's record no longer matches the embedded JSON
    conn.execute("UPDATE reports SET data_sha256 = 'x' WHERE number = ?", (row["number"],))
    result = cli("report", "verify", row["file"])
    assert result.exit_code == ExitCode.FAILED
    assert "embedded data differ from the store" in result.stdout
    # another site's store does not know the report
    conn.execute("DELETE FROM reports")
    result = cli("report", "verify", row["file"])
    assert "is not registered in this site" in result.stdout


def test_not_a_pdf_and_missing_file(cli, tmp_path):
    text = tmp_path / "report.pdf"
    text.write_text("just text\n")
    for args in (("report", "verify", str(text)), ("report", "sign", str(text))):
        result = cli(*args)
        assert result.exit_code == ExitCode.FAILED, result.stderr
        assert result.stderr.strip() == f"ppe-tech: error: {text}: not a PDF file"
    missing = cli("report", "verify", str(tmp_path / "nope.pdf"))
    assert missing.exit_code == ExitCode.IO
    assert len(missing.stderr.strip().splitlines()) == 1 and "no such file" in missing.stderr
