"""PAdES signing of a report with pyHanko: B-B, or B-T when ``signing.timestamp_url`` is set.

Each signature is an incremental update (earlier signatures stay valid) with a
visible stamp in the signer's own signature row, beside the printed name and
position (``stamp_place``: the slot the template marks with the named
destinations ``sig-ROLE`` and ``sig-ROLE-end``). The stamp text
uses the shipped DejaVu font, embedded as a subset (pyHanko's default stamp
font is a non-embedded Courier without Cyrillic, which PDF/A forbids). pyHanko
updates the document info dictionary and the XMP packet together, so their
modification dates agree after every signature (checked by ``metadata_consistent``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ppe_tech.errors import ConfigError, KeysError, VerificationFailed
from ppe_tech.i18n import _
from ppe_tech.reports.i18n import labels
from ppe_tech.reports.pdf import quiet_pdf_libraries, signature_fields
from ppe_tech.signers import Ask, RoleKey, open_signer, role_key
from ppe_tech.site import STAFF_ROLES, staff_role_label

if TYPE_CHECKING:
    from ppe_tech.site import Site

ROLES = STAFF_ROLES
# where a stamp goes when the document has no signature row for that person (the technician
# on the act ППЭ-01, a site's own template without slots): (x1, y1, x2, y2) in PDF points on
# an A4 page, inside the 34 mm bottom margin of the last page, left to right
MARGIN_BOXES = {
    "technician": (40, 30, 166, 92),
    "head": (170, 30, 296, 92),
    "commission": (300, 30, 426, 92),
    "organisation_head": (430, 30, 556, 92),
}


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
                            raise TimestampRequestError(_("the server's reply is not a timestamp"))
                        return response.read()
                except OSError as exc:
                    raise TimestampRequestError(
                        _("cannot reach the server: {why}").format(why=exc)
                    ) from exc

            return tsp.TimeStampResp.load(await asyncio.to_thread(post))

    return UrllibTimeStamper()


def stamp_time(site: Site, moment: datetime | None = None) -> str:
    """The signing time as the stamp prints it: local time of the point, its zone named."""
    local = (moment or datetime.now(UTC)).astimezone(site.tz)
    return f"{local:%d.%m.%Y %H:%M:%S} {local.tzname()} ({site.config.point.timezone})"


def sign_pdf(
    site: Site,
    pdf: bytes,
    role: str = "technician",
    *,
    lang: str | None = None,
    passphrase: bytes | None = None,
    ask: Ask = None,
    strict_key_file: bool = False,
) -> bytes:
    """Append ``role``'s signature to ``pdf`` (bytes), made with that person's own key.

    ``passphrase`` opens the key (None: the person's environment variable, else ``ask``);
    ``strict_key_file`` refuses a key file other users can read (countersignatures).
    """
    found = _role_key(site, role, strict_key_file)
    last_page = _signable(pdf, role)  # a document that cannot be signed: before the passphrase
    with open_signer(site, found, secret_value=passphrase, ask=ask) as signer:
        return _signed(site, pdf, found, signer, lang=lang, last_page=last_page)


@contextmanager
def signing_as(
    site: Site, role: str, *, passphrase: bytes | None = None, ask: Ask = None
) -> Iterator[Callable[[bytes, str | None], bytes]]:
    """``sign(pdf, lang)`` for several documents as ``role``, the key opened once (a token's
    session stays open inside the block)."""
    found = _role_key(site, role, False)
    with open_signer(site, found, secret_value=passphrase, ask=ask) as signer:

        def sign(pdf: bytes, lang: str | None = None) -> bytes:
            last_page = _signable(pdf, role)
            return _signed(site, pdf, found, signer, lang=lang, last_page=last_page)

        yield sign


def _role_key(site: Site, role: str, strict_key_file: bool) -> RoleKey:
    quiet_pdf_libraries()
    if role not in ROLES:
        raise ConfigError(
            _("unknown signer role {role!r} (use one of: {known})").format(
                role=role, known=", ".join(ROLES)
            )
        )
    found = role_key(site, role)
    readable = [p for p in found.problems if "read by other users" in p]
    if strict_key_file and readable:
        raise KeysError(
            _("refusing to sign as {role}: {problem}").format(
                role=staff_role_label(role), problem=readable[0]
            )
        )
    return found


def _signable(pdf: bytes, role: str) -> int:
    """The index of the last page of ``pdf``, which has no signature of ``role`` yet."""
    try:
        pages = _page_count(pdf)
        taken = signature_fields(pdf, filled=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise VerificationFailed(_("not a PDF that can be signed: {why}").format(why=exc)) from None
    if role in taken:
        raise VerificationFailed(
            _("this document is already signed as {role}").format(role=staff_role_label(role))
        )
    return pages - 1


def stamp_place(pdf: bytes, role: str, last_page: int) -> tuple[int, tuple[float, ...]]:
    """(page index, box) of ``role``'s stamp: the slot in that person's signature row, from the
    named destinations the template's ids became (``sig-ROLE``: the slot's top left corner,
    ``sig-ROLE-end``: its bottom right, PDF points); else ``MARGIN_BOXES[role]`` on the last
    page."""
    from pypdf import PdfReader

    try:
        doc = PdfReader(io.BytesIO(pdf), strict=False)
        dests = doc.named_destinations
        start, end = dests[f"sig-{role}"], dests[f"sig-{role}-end"]
        page = doc.get_destination_page_number(start)
        box = (float(start.left), float(end.top), float(end.left), float(start.top))
    except (KeyError, TypeError, ValueError, AttributeError):
        return last_page, MARGIN_BOXES[role]
    if page != doc.get_destination_page_number(end) or box[0] >= box[2] or box[1] >= box[3]:
        return last_page, MARGIN_BOXES[role]
    return page, box


def _page_count(pdf: bytes) -> int:
    from pyhanko.pdf_utils.misc import PdfError

    from ppe_tech.reports.pdf import reader

    try:
        return int(reader(pdf).root["/Pages"]["/Count"])
    except PdfError as exc:
        raise ValueError(str(exc)) from None


def _signed(
    site: Site, pdf: bytes, found: RoleKey, signer: Any, *, lang: str | None, last_page: int
) -> bytes:
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.sign import fields
    from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError
    from pyhanko.stamp import TextStampStyle

    from ppe_tech.reports.render import stamp_font

    role = found.role
    t = labels(lang or site.config.point.language)
    member = site.config.staff[role]
    title = t[f"role_{role}"]
    meta = PdfSignatureMetadata(
        field_name=role,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=f"{title}: {member.name}, {member.position}",
        location=f"{site.config.point.code} {site.config.point.name}",
        name=member.name,
        use_pades_lta=False,
    )
    timestamper = None
    if site.config.signing.timestamp_url:
        timestamper = url_timestamper(site.config.signing.timestamp_url)
    style = TextStampStyle(
        stamp_text=t.stamp,
        text_box_style=TextBoxStyle(
            font=GlyphAccumulatorFactory(str(stamp_font(site.folder)), font_size=6)
        ),
        border_width=1,
    )
    page, box = stamp_place(pdf, role, last_page)
    pdf_signer = PdfSigner(
        meta,
        signer,
        timestamper=timestamper,
        stamp_style=style,
        new_field_spec=fields.SigFieldSpec(role, on_page=page, box=box),
    )
    out = io.BytesIO()
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        pdf_signer.sign_pdf(
            writer,
            output=out,
            appearance_text_params={
                "signer": found.common_name,
                "role": f"{title}: {member.name}",
                "serial": format(found.cert.serial_number, "x")[:16],
                "when": stamp_time(site),
            },
        )
    except PdfError as exc:
        raise VerificationFailed(_("cannot sign the document: {why}").format(why=exc)) from None
    except (OSError, TimestampRequestError) as exc:  # the timestamp server
        raise KeysError(
            _("timestamp server {url}: {why}").format(
                url=site.config.signing.timestamp_url, why=exc
            )
        ) from None
    return out.getvalue()
