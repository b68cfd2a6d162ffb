"""PDF helpers that making, signing and verifying reports all need (a leaf: imports no report
module): read a report file, its embedded ``results.json``, its signature fields, its metadata.

pyHanko is imported inside the functions so that ``ppe-tech --help`` does not load it.
"""

from __future__ import annotations

import io
import logging
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ppe_tech.errors import StorageError, VerificationFailed
from ppe_tech.fsutil import read_regular
from ppe_tech.i18n import _

ATTACHMENT_NAME = "results.json"
PDF_LIMIT = 2 * 1024**3  # a report past this is not one of ours (and would not fit in memory)


def quiet_pdf_libraries() -> None:
    """Keep WeasyPrint's, fontTools' and pyHanko's chatter off the user's terminal."""
    for name in ("weasyprint", "fontTools", "fontTools.subset", "pyhanko"):
        logging.getLogger(name).setLevel(logging.ERROR)


def read_pdf(path: Path) -> bytes:
    """The bytes of the PDF at ``path``; StorageError when unreadable (a pipe, a device, a
    folder or a file past ``PDF_LIMIT`` included), VerificationFailed when it is not a PDF."""
    path = Path(path)
    try:
        data = read_regular(path, limit=PDF_LIMIT)
    except FileNotFoundError:
        raise StorageError(_("{file}: no such file").format(file=path)) from None
    except IsADirectoryError:
        raise StorageError(_("{file}: is a folder, not a PDF file").format(file=path)) from None
    except OSError as exc:
        raise StorageError(
            _("{file}: cannot read: {reason}").format(file=path, reason=exc.strerror or exc)
        ) from None
    if not data.lstrip()[:5] == b"%PDF-":
        raise VerificationFailed(_("{file}: not a PDF file").format(file=path))
    return data


def reader(pdf: bytes) -> Any:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(io.BytesIO(pdf), strict=False)


def embedded_data(pdf: bytes) -> bytes | None:
    """The bytes of the embedded ``results.json`` (None when there is none or it is unreadable)."""
    try:
        names = reader(pdf).root["/Names"]["/EmbeddedFiles"]["/Names"]
        for i in range(0, len(names) - 1, 2):
            if str(names[i]) == ATTACHMENT_NAME:
                return names[i + 1].get_object()["/EF"]["/F"].get_object().data
    except Exception:  # noqa: BLE001 - any damage means "no readable data"; verify says so
        return None
    return None


def json_object(raw: bytes) -> dict[str, Any] | None:
    """The embedded data as a dict, or None when it is not UTF-8 JSON holding an object."""
    import json

    try:
        data = json.loads(raw)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        return None
    return data if isinstance(data, dict) else None


def signature_fields(pdf: bytes, *, filled: bool | None = None) -> list[str]:
    """Names of the signature fields (``filled`` True: signed ones, False: empty ones)."""
    from pyhanko.sign.fields import enumerate_sig_fields

    return [name for name, _, _ in enumerate_sig_fields(reader(pdf), filled_status=filled)]


def pdf_date(text: str) -> datetime:
    """``D:20261124224830Z`` or ``D:20261124224828+03'00'`` -> aware datetime."""
    m = re.fullmatch(r"D:(\d{14})(?:(Z)|([+-])(\d{2})'?(\d{2})'?)?", text.strip())
    if not m:
        raise ValueError(f"not a PDF date: {text!r}")
    moment = datetime.strptime(m.group(1), "%Y%m%d%H%M%S")
    if m.group(3):
        sign = 1 if m.group(3) == "+" else -1
        offset = timedelta(hours=int(m.group(4)), minutes=int(m.group(5)))
        return moment.replace(tzinfo=timezone(sign * offset))
    return moment.replace(tzinfo=UTC)


def metadata_consistent(pdf: bytes) -> tuple[bool, str]:
    """The info dictionary and the XMP packet agree on modification date, producer, creator tool."""
    doc = reader(pdf)
    info_ref = doc.trailer_view.get("/Info")
    meta_ref = doc.root.get("/Metadata")
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
        a = pdf_date(str(mod))
        b = datetime.fromisoformat(xmp_mod.replace("Z", "+00:00"))
        if abs((a - b).total_seconds()) >= 1:
            problems.append(f"modification dates {a.isoformat()} / {b.isoformat()}")
    for key, name in (("/Producer", "pdf:Producer"), ("/Creator", "xmp:CreatorTool")):
        if str(info.get(key, "")) != (xmp_value(name) or ""):
            problems.append(f"{key[1:]} {str(info.get(key, ''))!r} / {xmp_value(name)!r}")
    if problems:
        return False, "; ".join(problems)
    return True, f"modified {xmp_mod}, producer {info.get('/Producer')}"
