"""PAdES signing of a report with pyHanko: B-B, or B-T when ``signing.timestamp_url`` is set.

Each signature is an incremental update (earlier signatures stay valid) with a
visible stamp on the last page, in the bottom margin: technician on the left,
head of the point in the middle, commission member on the right. The stamp text
uses the shipped DejaVu font, embedded as a subset (pyHanko's default stamp
font is a non-embedded Courier without Cyrillic, which PDF/A forbids). pyHanko
updates the document info dictionary and the XMP packet together, so their
modification dates agree after every signature (checked by ``metadata_consistent``).
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ppe_tech.errors import ConfigError, KeysError, VerificationFailed
from ppe_tech.reports.i18n import labels

if TYPE_CHECKING:
    from ppe_tech.site import Site

ROLES = ("technician", "head", "commission")
# (x1, y1, x2, y2) in PDF points on an A4 page, inside the 34 mm bottom margin
STAMP_BOXES = {
    "technician": (57, 30, 219, 92),
    "head": (223, 30, 385, 92),
    "commission": (389, 30, 551, 92),
}


def _quiet() -> None:
    for name in ("fontTools", "fontTools.subset", "pyhanko"):
        logging.getLogger(name).setLevel(logging.ERROR)


def to_asn1(private_key: Any, cert: Any, chain: list[Any]):
    from asn1crypto import keys as akeys
    from asn1crypto import x509 as ax509
    from cryptography.hazmat.primitives import serialization

    der = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    acert = ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    achain = [ax509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in chain]
    return akeys.PrivateKeyInfo.load(der), acert, achain


def url_timestamper(url: str, timeout: float = 10.0):
    """An RFC 3161 client over the standard library (pyHanko's own needs ``requests``)."""
    import asyncio
    import urllib.request

    from asn1crypto import tsp
    from pyhanko.sign.timestamps.api import TimeStamper
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    class UrllibTimeStamper(TimeStamper):
        async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
            def post() -> bytes:
                request = urllib.request.Request(
                    url, data=req.dump(), headers={"Content-Type": "application/timestamp-query"}
                )
                try:
                    with urllib.request.urlopen(request, timeout=timeout) as response:
                        if response.headers.get("Content-Type") != "application/timestamp-reply":
                            raise TimestampRequestError("the server's reply is not a timestamp")
                        return response.read()
                except OSError as exc:
                    raise TimestampRequestError(f"cannot reach the server: {exc}") from exc

            return tsp.TimeStampResp.load(await asyncio.to_thread(post))

    return UrllibTimeStamper()


def existing_fields(pdf: bytes) -> list[str]:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import enumerate_sig_fields

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    return [name for name, _, _ in enumerate_sig_fields(reader, filled_status=None)]


def sign_pdf(
    site: Site,
    pdf: bytes,
    role: str = "technician",
    *,
    lang: str | None = None,
    passphrase: bytes | None = None,
) -> bytes:
    """Append a signature of ``role`` to ``pdf`` (bytes) and return the signed bytes."""
    _quiet()
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.sign import fields, signers
    from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError
    from pyhanko.stamp import TextStampStyle
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    from ppe_tech.keys import load_signing_key
    from ppe_tech.reports.render import stamp_font

    if role not in ROLES:
        raise ConfigError(f"unknown signer role {role!r} (use one of: {', '.join(ROLES)})")
    lang = lang or site.config.point.language
    t = labels(lang)
    key, cert, chain = load_signing_key(site, passphrase)
    akey, acert, achain = to_asn1(key, cert, chain)
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        page_count = int(writer.root["/Pages"]["/Count"])
        taken = existing_fields(pdf)
    except (PdfError, KeyError, ValueError, TypeError) as exc:
        raise VerificationFailed(f"not a PDF that can be signed: {exc}") from None
    if role in taken:
        raise VerificationFailed(f"this document is already signed as {role}")
    person = site.config.staff.get(role)
    person_text = f"{person.name}, {person.position}" if person else role
    signer = signers.SimpleSigner(
        signing_cert=acert,
        signing_key=akey,
        # the issuers only: pyHanko adds the signing certificate itself, and a self-signed root
        # must already be the verifier's trust anchor
        cert_registry=SimpleCertificateStore.from_certs(
            [c for c in achain if c.subject != c.issuer and c.dump() != acert.dump()]
        ),
    )
    meta = PdfSignatureMetadata(
        field_name=role,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=f"{t[f'role_{role}']}: {person_text}",
        location=f"{site.config.point.code} {site.config.point.name}",
        name=person.name if person else None,
        use_pades_lta=False,
    )
    timestamper = None
    if site.config.signing.timestamp_url:
        timestamper = url_timestamper(site.config.signing.timestamp_url)
    style = TextStampStyle(
        stamp_text=t.stamp,
        timestamp_format="%d.%m.%Y %H:%M:%S UTC",
        text_box_style=TextBoxStyle(
            font=GlyphAccumulatorFactory(str(stamp_font(site.folder)), font_size=6)
        ),
        border_width=1,
    )
    signer_cn = cert.subject.rfc4514_string()
    for attr in cert.subject:
        if attr.oid.dotted_string == "2.5.4.3":
            signer_cn = str(attr.value)
    pdf_signer = PdfSigner(
        meta,
        signer,
        timestamper=timestamper,
        stamp_style=style,
        new_field_spec=fields.SigFieldSpec(role, on_page=page_count - 1, box=STAMP_BOXES[role]),
    )
    out = io.BytesIO()
    try:
        pdf_signer.sign_pdf(
            writer,
            output=out,
            appearance_text_params={
                "signer": signer_cn,
                "role": f"{t[f'role_{role}']}: {person.name if person else role}",
                "serial": format(cert.serial_number, "x")[:16],
            },
        )
    except PdfError as exc:
        raise VerificationFailed(f"cannot sign the document: {exc}") from None
    except (OSError, TimestampRequestError) as exc:  # the timestamp server
        raise KeysError(f"timestamp server {site.config.signing.timestamp_url}: {exc}") from None
    return out.getvalue()


def _pdf_date(text: str) -> datetime:
    """``D:20261124224830Z`` or ``D:20261124224828+03'00'`` -> aware datetime."""
    import re

    m = re.fullmatch(r"D:(\d{14})(?:(Z)|([+-])(\d{2})'?(\d{2})'?)?", text.strip())
    if not m:
        raise ValueError(f"not a PDF date: {text!r}")
    moment = datetime.strptime(m.group(1), "%Y%m%d%H%M%S")
    if m.group(3):
        sign = 1 if m.group(3) == "+" else -1
        from datetime import timedelta, timezone

        offset = timedelta(hours=int(m.group(4)), minutes=int(m.group(5)))
        return moment.replace(tzinfo=timezone(sign * offset))
    return moment.replace(tzinfo=UTC)


def metadata_consistent(pdf: bytes) -> tuple[bool, str]:
    """The info dictionary and the XMP packet agree on modification date, producer, creator tool."""
    import re

    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    info_ref = reader.trailer_view.get("/Info")
    meta_ref = reader.root.get("/Metadata")
    if info_ref is None or meta_ref is None:
        return False, "the info dictionary or the XMP packet is missing"
    info = info_ref.get_object()
    xmp = meta_ref.get_object().data.decode("utf-8", "replace")

    def xmp_value(name: str) -> str | None:
        m = re.search(rf'{name}="([^"]*)"|<{name}>([^<]*)</{name}>', xmp)
        return (m.group(1) or m.group(2)) if m else None

    problems = []
    mod, xmp_mod = info.get("/ModDate"), xmp_value("xmp:ModifyDate")
    if mod is None or xmp_mod is None:
        problems.append("modification date missing")
    else:
        a = _pdf_date(str(mod))
        b = datetime.fromisoformat(xmp_mod.replace("Z", "+00:00"))
        if abs((a - b).total_seconds()) >= 1:
            problems.append(f"modification dates {a.isoformat()} / {b.isoformat()}")
    for key, name in (("/Producer", "pdf:Producer"), ("/Creator", "xmp:CreatorTool")):
        if str(info.get(key, "")) != (xmp_value(name) or ""):
            problems.append(f"{key[1:]} {str(info.get(key, ''))!r} / {xmp_value(name)!r}")
    if problems:
        return False, "; ".join(problems)
    return True, f"modified {xmp_mod}, producer {info.get('/Producer')}"
