"""The one place the regional review checks a signed report, from its bytes, without a site.

It reads the embedded ``results.json`` with ``ppe_tech.reports.verify.embedded_data`` and
converts certificates with its ``to_asn1_cert`` (public functions of the reports job);
the signatures are validated with pyHanko against the certificates the point handed over
(or the region's own ``--trust``), the same rules as ``report verify``: every signature
intact, valid and trusted, and nothing changed after signing but later signatures.
``report verify`` itself needs the point's site and store, which the region does not have;
when the reports job offers a site-free signature check, this module should call it.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ReportCheck:
    name: str
    signatures: int = 0
    signers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    data: dict[str, Any] | None = None  # the embedded results.json

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "signatures": self.signatures,
            "signers": self.signers,
            "problems": self.problems,
            "number": (self.data or {}).get("number"),
        }


def load_roots(pem_blobs: list[bytes]) -> list[Any]:
    """asn1crypto certificates from PEM bytes (each blob may hold several)."""
    from cryptography import x509

    from ppe_tech.reports.verify import to_asn1_cert

    return [to_asn1_cert(c) for blob in pem_blobs for c in x509.load_pem_x509_certificates(blob)]


def _signature_problems(pdf: bytes, roots: list[Any], check: ReportCheck) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    allowed = {
        ModificationLevel.NONE,
        ModificationLevel.LTA_UPDATES,
        ModificationLevel.FORM_FILLING,
    }
    sigs = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    if not sigs:
        check.problems.append("carries no signature")
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    for index, sig in enumerate(sigs):
        status = validate_pdf_signature(sig, context)
        signer = status.signing_cert.subject.human_friendly if status.signing_cert else "?"
        check.signatures += 1
        check.signers.append(signer)
        if not (status.intact and status.valid):
            check.problems.append(
                f"signature {sig.field_name} is broken: the signed bytes were changed"
            )
        elif not status.trusted:
            check.problems.append(f"signature {sig.field_name} ({signer}) is not trusted")
        last = index == len(sigs) - 1
        whole = status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
        if (last and not whole) or (not last and status.modification_level not in allowed):
            check.problems.append(f"the document was changed after signature {sig.field_name}")


def check_report(name: str, pdf: bytes, roots: list[Any]) -> ReportCheck:
    """Signatures and embedded data of one report's bytes."""
    from ppe_tech.reports.verify import embedded_data

    check = ReportCheck(name)
    try:
        _signature_problems(pdf, roots, check)
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file: a finding, not a crash
        check.problems.append(f"cannot be validated ({type(exc).__name__}: {str(exc)[:120]})")
    try:
        raw = embedded_data(pdf)
        check.data = json.loads(raw) if raw else None
    except (ValueError, TypeError):
        check.data = None
    if check.data is None:
        check.problems.append("no readable embedded results.json")
    return check
