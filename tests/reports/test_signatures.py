"""Signatures checked by pyHanko's validator and, independently, by poppler's pdfsig (NSS)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ppe_tech.errors import ExitCode
from tests.conftest import write_site
from tests.reports.conftest import (
    EXAM,
    PASSPHRASE,
    give_own_key,
    issue_p12,
    make_ca,
    nss_db,
    pdfsig,
    russian_config,
)


@pytest.fixture
def ca_site(site_dir, tmp_path, monkeypatch):
    """A site whose key and certificate come from a test CA (.p12), the CA in signing.trust."""
    from ppe_tech.keys import import_p12
    from ppe_tech.site import load_site
    from ppe_tech.store import connect
    from tests.reports.conftest import (
        CAMERAS,
        add_archive,
        add_camera_run,
        add_checklist_run,
        add_log,
    )

    ca_pem, issuer = make_ca(tmp_path)
    p12 = issue_p12(tmp_path, issuer, b"p12", cn="Иванов И.И.")
    issue_p12(tmp_path, issuer, b"p12", cn="Сидорова С.С.", name="commission")
    write_site(site_dir, russian_config(signing={"trust": [str(ca_pem)]}))
    monkeypatch.setenv("PPE_KEY_PASSPHRASE", PASSPHRASE)
    site = load_site(site_dir)
    import_p12(site, p12, b"p12")
    conn = connect(site.db_path)
    add_checklist_run(conn)
    add_camera_run(site, conn, len(CAMERAS))
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
    assert verify_report(site, conn, path).ok

    # one flipped byte inside the signed range: both verifiers fail
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    flipped = tmp_path / "flipped.pdf"
    flipped.write_bytes(bytes(data))
    assert pdfsig(flipped, nssdir)[0]["signature"] != "Signature is Valid."
    result = verify_report(site, conn, flipped)
    assert not result.ok
    assert result.verdict.startswith("FAILED")


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
        checks["changes"]["ok"] is False and "изменён после подписи" in checks["changes"]["message"]
    )
    assert checks["signatures"]["ok"] is True  # the signed revision itself is intact
    (status,) = _pyhanko_statuses(site, changed)
    assert status.modification_level.name == "OTHER"


def test_countersigned_report_verifies_with_both_signatures(
    populated, conn, tmp_path, cli, monkeypatch
):
    from ppe_tech.keys import cert_path
    from ppe_tech.reports.core import make_report, show_report

    nssdir = nss_db(tmp_path / "nss", cert_path(populated))
    row = make_report(populated, conn, "readiness", EXAM, lang="en")
    first_bytes = Path(row["file"]).read_bytes()
    give_own_key(populated, monkeypatch, "head")  # each person signs with their own key (issue 12)
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
    roles = "(технический специалист, руководитель ППЭ)"  # a Russian point: said in Russian
    assert verify.stdout.startswith("ВЕРНО:") and roles in verify.stdout
    assert show_report(populated, conn, row["number"])["signers"] == ["technician", "head"]
    again = cli("report", "sign", row["file"], "--as", "head")
    assert (
        again.exit_code == ExitCode.FAILED
        and "документ уже подписан, роль: руководитель ППЭ" in again.stderr
    )


def test_countersigned_with_a_ca_issued_key(ca_site, cli, tmp_path, monkeypatch):
    """With a key from an organisation's CA both signatures are trusted by pyHanko; pdfsig
    finds both cryptographically valid (its certificate verdict on the second one is not
    asserted: poppler 22.12 answers "Unknown issue" there, and for any signature with -no-ocsp,
    README "Signed reports")."""
    from ppe_tech.reports.core import make_report

    site, conn, ca_pem = ca_site
    row = make_report(site, conn, "archive", EXAM)
    commission_p12 = tmp_path / "commission.p12"  # issued by the same CA (ca_site)
    monkeypatch.setenv("P12_PASS", "p12")
    monkeypatch.setenv("PPE_KEY_PASSPHRASE_COMMISSION", "commission-pass")
    import_commission = cli(
        "keys",
        "import",
        "--person",
        "commission",
        str(commission_p12),
        "--p12-passphrase-env",
        "P12_PASS",
    )
    assert import_commission.exit_code == 0, import_commission.stderr
    signed = cli("report", "sign", row["file"], "--as", "commission")
    assert signed.exit_code == 0, signed.stderr
    statuses = _pyhanko_statuses(site, Path(row["file"]))
    assert [(s.intact, s.valid, s.trusted) for s in statuses] == [(True, True, True)] * 2
    assert cli("report", "verify", row["file"]).exit_code == 0
    sigs = pdfsig(Path(row["file"]), nss_db(tmp_path / "nss", ca_pem))
    assert [s["field"] for s in sigs] == ["technician", "commission"]
    assert [s["signature"] for s in sigs] == ["Signature is Valid."] * 2
    assert sigs[0]["certificate"] == "Certificate is Trusted."
    # the certificate travels once in each signature (pyHanko adds the signer's itself)
    from pyhanko.pdf_utils.reader import PdfFileReader

    with open(row["file"], "rb") as fh:
        embedded = PdfFileReader(fh).embedded_signatures
        assert [len(s.signed_data["certificates"]) for s in embedded] == [1, 1]


def test_data_and_checkpoint_are_checked_against_the_store(rsite, conn, cli):
    import hashlib

    from ppe_tech.reports.core import make_report
    from ppe_tech.reports.verify import embedded_data
    from tests.reports.conftest import add_log

    add_log(rsite, conn)

    row = make_report(rsite, conn, "access-log")
    assert cli("report", "verify", row["file"]).exit_code == 0
    # the store's record no longer matches the embedded JSON
    conn.execute("UPDATE reports SET data_sha256 = 'x' WHERE number = ?", (row["number"],))
    result = cli("report", "verify", row["file"])
    assert result.exit_code == ExitCode.FAILED
    assert "вложенные данные отличаются от отчёта" in result.stdout  # a Russian point
    conn.execute(
        "UPDATE reports SET data_sha256 = ? WHERE number = ?",
        (hashlib.sha256(embedded_data(Path(row["file"]).read_bytes())).hexdigest(), row["number"]),
    )
    assert cli("report", "verify", row["file"]).exit_code == 0
    # the log was edited behind the store's back: the report's checkpoint no longer matches
    conn.execute("DROP TRIGGER pak_entries_no_update")
    conn.execute(
        "UPDATE pak_entries SET body = json_set(body, '$.rooms', 'Аудитория 9999') WHERE seq = 2"
    )
    result = cli("report", "verify", row["file"], "--json")
    assert result.exit_code == ExitCode.FAILED
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["checkpoint"]["ok"] is False and checks["data"]["ok"] is True
    # another site's store does not know the report
    conn.execute("DELETE FROM reports")
    result = cli("report", "verify", row["file"])
    assert "не зарегистрирован в этом ППЭ" in result.stdout


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


@pytest.fixture
def tsa(tmp_path):
    """An RFC 3161 timestamp server on loopback (pyHanko's DummyTimeStamper behind http.server)."""
    import threading
    from datetime import UTC, datetime, timedelta
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from asn1crypto import keys as akeys
    from asn1crypto import tsp
    from asn1crypto import x509 as ax509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
    now = datetime.now(UTC) - timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = tmp_path / "tsa.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    stamper = DummyTimeStamper(
        tsa_cert=ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=akeys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            reply = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", pem
    server.shutdown()
    server.server_close()


def test_timestamp_server_makes_pades_b_t(site_dir, tsa, monkeypatch, cli):
    from ppe_tech.keys import init_keys
    from ppe_tech.site import load_site

    url, tsa_pem = tsa
    write_site(site_dir, russian_config(signing={"timestamp_url": url, "trust": [str(tsa_pem)]}))
    monkeypatch.setenv("PPE_KEY_PASSPHRASE", PASSPHRASE)
    init_keys(load_site(site_dir), PASSPHRASE.encode())
    made = cli("report", "access-log", "--json")
    assert made.exit_code == 0, made.stderr
    result = cli("report", "verify", json.loads(made.stdout)["file"], "--json")
    assert result.exit_code == 0, result.stdout
    (sig,) = json.loads(result.stdout)["signatures"]
    assert sig["timestamp"] is not None  # a signature timestamp from the TSA: PAdES B-T

    # the timestamp server is down: one line, key/certificate exit code
    write_site(site_dir, russian_config(signing={"timestamp_url": "http://127.0.0.1:9/"}))
    down = cli("report", "access-log")
    assert down.exit_code == ExitCode.KEYS
    assert len(down.stderr.strip().splitlines()) == 1 and "сервер меток времени" in down.stderr
