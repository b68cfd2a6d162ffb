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
- ``metadata``: the document info and XMP modification dates agree (PDF/A).
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ppe_tech.reports.render import ATTACHMENT_NAME

if TYPE_CHECKING:
    from ppe_tech.site import Site


def _reader(pdf: bytes):
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(io.BytesIO(pdf), strict=False)


def embedded_data(pdf: bytes) -> bytes | None:
    """The bytes of the embedded ``results.json`` (None when there is none)."""
    try:
        root = _reader(pdf).root
        names = root["/Names"]["/EmbeddedFiles"]["/Names"]
    except Exception:
        return None
    for i in range(0, len(names) - 1, 2):
        if str(names[i]) == ATTACHMENT_NAME:
            spec = names[i + 1].get_object()
            return spec["/EF"]["/F"].get_object().data
    return None


def json_object(raw: bytes) -> dict[str, Any] | None:
    """The embedded data as a dict, or None when it is not UTF-8 JSON holding an object."""
    try:
        data = json.loads(raw)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        return None
    return data if isinstance(data, dict) else None


def _check(name: str, ok: bool | None, message: str) -> dict[str, Any]:
    return {"name": name, "ok": ok, "message": message}


def _signature_checks(site: Site, pdf: bytes) -> tuple[list[dict], list[dict]]:
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    from ppe_tech.keys import trust_roots
    from ppe_tech.reports.sign import _quiet

    _quiet()
    roots = [to_asn1_cert(c) for c in trust_roots(site)]
    reader = _reader(pdf)
    sigs = reader.embedded_signatures
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
            results.append({"field": name, "intact": False, "valid": False, "trusted": False,
                            "error": str(exc)})  # fmt: skip
            problems.append(f"signature {name}: cannot be validated ({exc})")
            continue
        signer = status.signing_cert.subject.human_friendly if status.signing_cert else "?"
        level = status.modification_level
        last = index == len(sigs) - 1
        info = {
            "field": name,
            "signer": signer,
            "signing_time": status.signer_reported_dt.isoformat()
            if status.signer_reported_dt
            else None,
            "timestamp": status.timestamp_validity.timestamp.isoformat()
            if status.timestamp_validity
            else None,
            "intact": status.intact,
            "valid": status.valid,
            "trusted": status.trusted,
            "coverage": status.coverage.name if status.coverage else None,
            "modification_level": level.name if level is not None else None,
            "summary": status.summary(),
        }
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
    fields = ", ".join(r["field"] for r in results)
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


def to_asn1_cert(cert: Any):
    from asn1crypto import x509 as ax509
    from cryptography.hazmat.primitives import serialization

    return ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def verify_report(site: Site, conn: sqlite3.Connection, path: Path) -> dict[str, Any]:
    """Every check on the file at ``path``; ``ok`` is True only when all passed."""
    from ppe_tech.reports.core import _read_pdf
    from ppe_tech.reports.sign import metadata_consistent

    path = Path(path)
    pdf = _read_pdf(path)
    try:
        signatures, checks = _signature_checks(site, pdf)
    except Exception as exc:  # a damaged file pyHanko cannot parse at all
        from pyhanko.pdf_utils.misc import PdfError

        if not isinstance(exc, PdfError | ValueError | KeyError | TypeError):
            raise
        signatures, checks = [], [_check("signatures", False, f"damaged PDF: {exc}")]

    raw = None
    try:
        raw = embedded_data(pdf)
    except Exception:
        raw = None
    data = None
    if raw is None:
        checks.append(_check("data", False, f"no embedded {ATTACHMENT_NAME}"))
    elif (data := json_object(raw)) is None:
        checks.append(_check("data", False, f"embedded {ATTACHMENT_NAME} is not a JSON object"))
    else:
        row = conn.execute(
            "SELECT data_sha256, path FROM reports WHERE number = ?", (data.get("number"),)
        ).fetchone()
        digest = hashlib.sha256(raw).hexdigest()
        if row is None:
            checks.append(
                _check("data", False, f"report {data.get('number')} is not registered in this site")
            )
        elif row["data_sha256"] != digest:
            checks.append(
                _check(
                    "data", False, f"embedded data differ from the store's report {data['number']}"
                )
            )
        else:
            checks.append(
                _check("data", True, f"embedded data match the store (report {data['number']})")
            )

    from ppe_tech.pak.chain import verify_checkpoint

    cp = (data or {}).get("checkpoint")
    cp = cp if isinstance(cp, dict) else None  # forged data: a checkpoint that is not an object
    if not cp or not cp.get("text"):
        reason = (cp or {}).get("refused") or "the report carries no checkpoint"
        checks.append(_check("checkpoint", None, f"not checked: {reason}"))
    else:
        result = verify_checkpoint(site, conn, cp["text"])
        checks.append(_check("checkpoint", bool(result.ok), f"log checkpoint: {result.message}"))

    try:
        same, detail = metadata_consistent(pdf)
        checks.append(
            _check("metadata", same, f"info/XMP dates {'agree' if same else 'differ'}: {detail}")
        )
    except Exception as exc:  # noqa: BLE001 - a damaged file: the signature check already says so
        checks.append(_check("metadata", False, f"metadata unreadable: {exc}"))

    failed = [c for c in checks if c["ok"] is False]
    ok = not failed
    if ok:
        roles = ", ".join(s["field"] for s in signatures)
        verdict = (
            f"OK: {path.name}: {len(signatures)} signature(s) ({roles}) valid and trusted; "
            + "; ".join(c["message"] for c in checks if c["name"] in ("data", "checkpoint"))
        )
    else:
        verdict = f"FAILED: {path.name}: " + "; ".join(c["message"] for c in failed)
    return {
        "file": str(path),
        "ok": ok,
        "verdict": verdict,
        "number": (data or {}).get("number"),
        "kind": (data or {}).get("kind"),
        "signatures": signatures,
        "checks": checks,
        "sha256": hashlib.sha256(pdf).hexdigest(),
    }
