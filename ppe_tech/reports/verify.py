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

from ppe_tech.i18n import _, ngettext
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
        "issuer_name": cert.issuer.native.get("common_name") or cert.issuer.human_friendly,
        "serial": format(cert.serial_number, "x"),
        "sha256": cert.sha256.hex(),
    }


def _signature_checks(site: Site, pdf: bytes) -> tuple[list[SignatureInfo], list[Check]]:
    from pyhanko_certvalidator import ValidationContext

    quiet_pdf_libraries()
    roots = [to_asn1_cert(c) for c in trust_roots(site)]
    sigs = reader(pdf).embedded_signatures
    if not sigs:
        return [], [_check("signatures", False, _("the file carries no signature"))]
    vc = ValidationContext(trust_roots=roots, allow_fetching=False)
    results: list[SignatureInfo] = []
    problems: list[str] = []
    change_problems: list[str] = []
    for index, sig in enumerate(sigs):
        info, problem, changes = _one_signature(sig, vc, last=index == len(sigs) - 1)
        results.append(info)
        problems.extend([problem] if problem else [])
        change_problems.extend(changes)
    fields = ", ".join(role_label(r.field) for r in results)
    intact = ngettext(
        "{n} signature ({roles}) intact, valid, trusted",
        "{n} signatures ({roles}) intact, valid, trusted",
        len(results),
    )
    checks = [
        _check(
            "signatures",
            not problems,
            problems[0] if problems else intact.format(n=len(results), roles=fields),
        ),
        _check(
            "changes",
            not change_problems,
            change_problems[0]
            if change_problems
            else _("no change after signing except countersignatures"),
        ),
    ]
    return results, checks


def _one_signature(sig, vc, *, last: bool) -> tuple[SignatureInfo, str | None, list[str]]:
    """One embedded signature: what it says, its validity problem if any, and the changes made
    after it that a countersignature does not explain."""
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    name = sig.field_name
    try:
        status = validate_pdf_signature(sig, vc)
    except (SignatureValidationError, ValueError, KeyError) as exc:
        why = _("signature {name}: cannot be validated ({why})").format(
            name=role_label(name), why=exc
        )
        return SignatureInfo(field=name, error=str(exc)), why, []
    level = status.modification_level
    info = SignatureInfo(
        field=name,
        signer=certificate_person(status.signing_cert) if status.signing_cert else "?",
        certificate=_certificate(status.signing_cert),
        signing_time=_iso(status.signer_reported_dt),
        timestamp=_iso(status.timestamp_validity.timestamp) if status.timestamp_validity else None,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        coverage=status.coverage.name if status.coverage else None,
        modification_level=level.name if level is not None else None,
        summary=status.summary(),
    )
    problem = None
    if not (status.intact and status.valid):
        problem = _("signature {name} is broken: the signed bytes were changed").format(
            name=role_label(name)
        )
    elif not status.trusted:
        problem = _("signature {name} ({signer}) is not trusted by this site").format(
            name=role_label(name), signer=info.signer
        )
    allowed = {
        ModificationLevel.NONE,
        ModificationLevel.LTA_UPDATES,
        ModificationLevel.FORM_FILLING,
    }
    whole_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    changes = []
    if (not whole_file or not last) and (level is None or level not in allowed):
        changes.append(
            _("the document was modified after signature {name}").format(name=role_label(name))
        )
    if last and not whole_file and level in allowed:
        # an unsigned update after the last signature (e.g. only metadata): not allowed either
        changes.append(
            _("the document was changed after the last signature ({name})").format(
                name=role_label(name)
            )
        )
    return info, problem, changes


def role_label(role: str) -> str:
    """A staff role (a signature's field) as printed: the code in English, words in Russian."""
    labels = {
        "technician": _("technician"),
        "head": _("head"),
        "commission": _("commission"),
        "organisation_head": _("organisation_head"),
    }
    return labels.get(role, role)


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
                _("the {role} signature ({person}) was made with the key of {signer}").format(
                    role=role_label(sig.field), person=person, signer=sig.signer
                )
            )
    if wrong:
        return _check("signers", False, "; ".join(wrong))
    return _check("signers", True, _("each role signed with its own person's key"))


def _data_check(conn: sqlite3.Connection, raw: bytes | None) -> tuple[dict[str, Any] | None, Check]:
    """(the embedded data, the check that it is a report registered in this site's store)."""
    if raw is None:
        return None, _check("data", False, _("no embedded {file}").format(file=ATTACHMENT_NAME))
    data = json_object(raw)
    if data is None:
        not_json = _("the embedded {file} is not a JSON object").format(file=ATTACHMENT_NAME)
        return None, _check("data", False, not_json)
    number = data.get("number")
    row = conn.execute(
        "SELECT data_sha256, path FROM reports WHERE number = ?", (str(number),)
    ).fetchone()
    if row is None:
        unknown = _("report {number} is not registered in this site").format(number=number)
        return data, _check("data", False, unknown)
    if row["data_sha256"] != hashlib.sha256(raw).hexdigest():
        differ = _("embedded data differ from the store's report {number}").format(number=number)
        return data, _check("data", False, differ)
    match = _("embedded data match the store (report {number})").format(number=number)
    return data, _check("data", True, match)


def _checkpoint_check(site: Site, conn: sqlite3.Connection, data: dict[str, Any] | None) -> Check:
    """A report whose log could not be checkpointed fails: the log was broken when it was made."""
    from ppe_tech.pak.chain import verify_checkpoint

    cp = (data or {}).get("checkpoint")
    if isinstance(cp, dict) and cp.get("refused"):
        refused = _("the log could not be checkpointed: {why}").format(why=cp["refused"])
        return _check("checkpoint", False, refused)
    if not isinstance(cp, dict) or not cp.get("text"):
        return _check("checkpoint", None, _("not checked: the report carries no checkpoint"))
    result = verify_checkpoint(site, conn, cp["text"])
    checked = _("log checkpoint: {result}").format(result=result.message)
    return _check("checkpoint", bool(result.ok), checked)


def _metadata_check(pdf: bytes) -> Check:
    try:
        same, detail = metadata_consistent(pdf)
    except Exception as exc:  # noqa: BLE001 - a damaged file: the signature check already says so
        return _check("metadata", False, _("metadata unreadable: {why}").format(why=exc))
    dates = _("info/XMP dates agree: {detail}") if same else _("info/XMP dates differ: {detail}")
    return _check("metadata", same, dates.format(detail=detail))


def _safe_signature_checks(site: Site, pdf: bytes) -> tuple[list[SignatureInfo], list[Check]]:
    from pyhanko.pdf_utils.misc import PdfError

    try:
        return _signature_checks(site, pdf)
    except (PdfError, ValueError, KeyError, TypeError) as exc:  # pyHanko cannot parse it at all
        return [], [_check("signatures", False, _("damaged PDF: {why}").format(why=exc))]


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
        roles = ", ".join(role_label(s.field) for s in signatures)
        valid = ngettext(
            "OK: {file}: {n} signature ({roles}) valid and trusted; {checks}",
            "OK: {file}: {n} signatures ({roles}) valid and trusted; {checks}",
            len(signatures),
        )
        verdict = valid.format(
            file=path.name,
            n=len(signatures),
            roles=roles,
            checks="; ".join(c.message for c in checks if c.name in ("data", "checkpoint")),
        )
    else:
        verdict = _("FAILED: {file}: {problems}").format(
            file=path.name, problems="; ".join(c.message for c in failed)
        )
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
