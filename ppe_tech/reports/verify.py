"""``report verify``: is this PDF the report the site signed, unchanged, and does it still agree?

Checks, each one line:

- ``signatures``: every signature intact, cryptographically valid and trusted
  (roots: the site certificate and ``signing.trust``; pyHanko's validator);
- ``changes``: nothing changed after signing except later signatures (pyHanko's
  difference analysis: every earlier revision's changes are at most form filling,
  i.e. a countersignature) and the last signature covers the whole file;
- ``data``: the embedded ``results.json`` is registered in this site's store with the same hash;
- ``checkpoint``: the PAK checkpoint in the report is validly signed and consistent with
  the log as it is now;
- ``metadata``: the document info and XMP modification dates agree (PDF/A);
- ``signers``: each role's signature was made with the key of the person the report names
  for that role (a "head" signature made with the technician's key fails).
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import asdict, dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ppe_tech.keys import to_asn1_cert, trust_roots
from ppe_tech.reports.pdf import (
    ATTACHMENT_NAME,
    embedded_data,
    json_object,
    metadata_consistent,
    quiet_pdf_libraries,
    read_pdf,
    reader,
)
from ppe_tech.signers import certificate_person, same_person

if TYPE_CHECKING:
    from ppe_tech.site import Site


@dataclass
class Check:
    name: str
    ok: bool | None  # None: could not apply (no PAK job); does not fail the verdict
    message: str


@dataclass
class SignatureInfo:
    """One signature: the role (its field), the person it should be, the certificate's."""

    field: str
    person: str | None = None  # whom the report names for this role
    signer: str = "?"  # the certificate's common name
    certificate: dict[str, Any] = dc_field(default_factory=dict)  # subject, issuer, serial, sha256
    signing_time: str | None = None
    timestamp: str | None = None
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    own_key: bool | None = None  # the certificate names ``person``
    coverage: str | None = None
    modification_level: str | None = None
    summary: str = ""
    error: str | None = None


@dataclass
class ReportVerification:
    file: str
    ok: bool
    verdict: str
    number: str | None
    kind: str | None
    sha256: str
    signatures: list[SignatureInfo]
    checks: list[Check]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _check(name: str, ok: bool | None, message: str) -> Check:
    return Check(name, ok, message)


def _certificate(cert: Any) -> dict[str, Any]:
    if cert is None:
        return {}
    return {
        "subject": cert.subject.human_friendly,
        "issuer": cert.issuer.human_friendly,
        "serial": format(cert.serial_number, "x"),
        "sha256": cert.sha256.hex(),
    }


def _signature_checks(site: Site, pdf: bytes) -> tuple[list[SignatureInfo], list[Check]]:
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    quiet_pdf_libraries()
    roots = [to_asn1_cert(c) for c in trust_roots(site)]
    sigs = reader(pdf).embedded_signatures
    if not sigs:
        return [], [_check("signatures", False, "the file carries no signature")]
    vc = ValidationContext(trust_roots=roots, allow_fetching=False)
    results, problems = [], []
    allowed = {
        ModificationLevel.NONE,
        ModificationLevel.LTA_UPDATES,
        ModificationLevel.FORM_FILLING,
    }
    for index, sig in enumerate(sigs):
        name = sig.field_name
        try:
            status = validate_pdf_signature(sig, vc)
        except (SignatureValidationError, ValueError, KeyError) as exc:
            results.append(SignatureInfo(field=name, error=str(exc)))
            problems.append(f"signature {name}: cannot be validated ({exc})")
            continue
        level = status.modification_level
        last = index == len(sigs) - 1
        info = SignatureInfo(
            field=name,
            signer=certificate_person(status.signing_cert) if status.signing_cert else "?",
            certificate=_certificate(status.signing_cert),
            signing_time=_iso(status.signer_reported_dt),
            timestamp=_iso(status.timestamp_validity.timestamp)
            if status.timestamp_validity
            else None,
            intact=status.intact,
            valid=status.valid,
            trusted=status.trusted,
            coverage=status.coverage.name if status.coverage else None,
            modification_level=level.name if level is not None else None,
            summary=status.summary(),
        )
        signer = info.signer
        results.append(info)
        if not (status.intact and status.valid):
            problems.append(f"signature {name} is broken: the signed bytes were changed")
        elif not status.trusted:
            problems.append(f"signature {name} ({signer}) is not trusted by this site")
        if status.coverage != SignatureCoverageLevel.ENTIRE_FILE or not last:
            if level is None or level not in allowed:
                problems.append(f"the document was modified after signature {name}")
        if last and status.coverage != SignatureCoverageLevel.ENTIRE_FILE and level in allowed:
            # an unsigned update after the last signature (e.g. only metadata): not allowed either
            problems.append(f"the document was changed after the last signature ({name})")
    sig_problems = [p for p in problems if "modified" not in p and "changed after" not in p]
    change_problems = [p for p in problems if p not in sig_problems]
    fields = ", ".join(r.field for r in results)
    checks = [
        _check(
            "signatures",
            not sig_problems,
            sig_problems[0]
            if sig_problems
            else f"{len(results)} signature(s) ({fields}) intact, valid, trusted",
        ),
        _check(
            "changes",
            not change_problems,
            change_problems[0]
            if change_problems
            else "no change after signing except countersignatures",
        ),
    ]
    return results, checks


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment else None


def _signer_check(site: Site, data: dict[str, Any] | None, sigs: list[SignatureInfo]) -> Check:
    """Each role's signature made with the key of the person the report names for the role."""
    staff = (data or {}).get("staff") or {}
    wrong = []
    for sig in sigs:
        named = staff.get(sig.field) or {}
        person = named.get("name") if isinstance(named, dict) else None
        if person is None and sig.field in site.config.staff:
            person = site.config.staff[sig.field].name
        sig.person = person
        if person is None or sig.signer == "?":
            continue
        sig.own_key = same_person(sig.signer, person)
        if not sig.own_key:
            wrong.append(
                f"the {sig.field} signature ({person}) was made with the key of {sig.signer}"
            )
    if wrong:
        return _check("signers", False, "; ".join(wrong))
    return _check("signers", True, "each role signed with its own person's key")


def _data_check(conn: sqlite3.Connection, raw: bytes | None) -> tuple[dict[str, Any] | None, Check]:
    """(the embedded data, the check that it is a report registered in this site's store)."""
    if raw is None:
        return None, _check("data", False, f"no embedded {ATTACHMENT_NAME}")
    data = json_object(raw)
    if data is None:
        return None, _check("data", False, f"the embedded {ATTACHMENT_NAME} is not a JSON object")
    number = data.get("number")
    row = conn.execute(
        "SELECT data_sha256, path FROM reports WHERE number = ?", (str(number),)
    ).fetchone()
    if row is None:
        return data, _check("data", False, f"report {number} is not registered in this site")
    if row["data_sha256"] != hashlib.sha256(raw).hexdigest():
        return data, _check("data", False, f"embedded data differ from the store's report {number}")
    return data, _check("data", True, f"embedded data match the store (report {number})")


def _checkpoint_check(site: Site, conn: sqlite3.Connection, data: dict[str, Any] | None) -> Check:
    """A report whose log could not be checkpointed fails: the log was broken when it was made."""
    from ppe_tech.pak.chain import verify_checkpoint

    cp = (data or {}).get("checkpoint")
    if isinstance(cp, dict) and cp.get("refused"):
        return _check("checkpoint", False, f"the log could not be checkpointed: {cp['refused']}")
    if not isinstance(cp, dict) or not cp.get("text"):
        return _check("checkpoint", None, "not checked: the report carries no checkpoint")
    result = verify_checkpoint(site, conn, cp["text"])
    return _check("checkpoint", bool(result.ok), f"log checkpoint: {result.message}")


def _metadata_check(pdf: bytes) -> Check:
    try:
        same, detail = metadata_consistent(pdf)
    except Exception as exc:  # noqa: BLE001 - a damaged file: the signature check already says so
        return _check("metadata", False, f"metadata unreadable: {exc}")
    return _check("metadata", same, f"info/XMP dates {'agree' if same else 'differ'}: {detail}")


def _safe_signature_checks(site: Site, pdf: bytes) -> tuple[list[SignatureInfo], list[Check]]:
    from pyhanko.pdf_utils.misc import PdfError

    try:
        return _signature_checks(site, pdf)
    except (PdfError, ValueError, KeyError, TypeError) as exc:  # pyHanko cannot parse it at all
        return [], [_check("signatures", False, f"damaged PDF: {exc}")]


def verify_report(site: Site, conn: sqlite3.Connection, path: Path) -> ReportVerification:
    """Every check on the file at ``path``; ``ok`` is True only when all passed."""
    path = Path(path)
    pdf = read_pdf(path)
    signatures, checks = _safe_signature_checks(site, pdf)
    data, data_check = _data_check(conn, embedded_data(pdf))
    checks += [
        data_check,
        _checkpoint_check(site, conn, data),
        _metadata_check(pdf),
        _signer_check(site, data, signatures),
    ]
    failed = [c for c in checks if c.ok is False]
    if not failed:
        roles = ", ".join(s.field for s in signatures)
        verdict = (
            f"OK: {path.name}: {len(signatures)} signature(s) ({roles}) valid and trusted; "
            + "; ".join(c.message for c in checks if c.name in ("data", "checkpoint"))
        )
    else:
        verdict = f"FAILED: {path.name}: " + "; ".join(c.message for c in failed)
    return ReportVerification(
        file=str(path),
        ok=not failed,
        verdict=verdict,
        number=(data or {}).get("number"),
        kind=(data or {}).get("kind"),
        sha256=hashlib.sha256(pdf).hexdigest(),
        signatures=signatures,
        checks=checks,
    )
