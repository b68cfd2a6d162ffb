"""Make, countersign, list and show reports: the library behind ``ppe-tech report``.

``make_report`` reads the store (context builders), takes a fresh signed
checkpoint of the PAK log, renders the PDF/A-3b, signs it as the technician,
writes it into the site's ``reports/`` and registers it (number, path, SHA-256
of the file and of the embedded JSON, the checkpoint) in the ``reports`` table.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ppe_tech import __version__
from ppe_tech.errors import ConfigError, StorageError, VerificationFailed
from ppe_tech.fsutil import atomic_write_bytes, read_regular
from ppe_tech.reports import context
from ppe_tech.reports.i18n import LANGS
from ppe_tech.store import transaction
from ppe_tech.timeutil import iso, utc_now

if TYPE_CHECKING:
    from ppe_tech.site import Site

PDF_LIMIT = 2 * 1024**3  # a report past this is not one of ours (and would not fit in memory)
ABBREVIATIONS = {"readiness": "RDY", "archive": "ARC", "access-log": "LOG"}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _stored_path(site: Site, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(site.folder))
    except ValueError:
        return str(path.resolve())


def _checkpoint(
    site: Site, conn: sqlite3.Connection, passphrase: bytes | None
) -> dict[str, Any] | None:
    from ppe_tech.pak.chain import create_checkpoint

    try:
        cp = create_checkpoint(site, conn, passphrase=passphrase)
    except VerificationFailed as exc:  # a broken chain: the report says so instead
        return {"refused": exc.message}
    return cp.to_json()


def _next_number(conn: sqlite3.Connection, site: Site, kind: str, now: datetime) -> str:
    seq = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM reports").fetchone()[0]
    return f"{site.config.point.code}-{ABBREVIATIONS[kind]}-{now.astimezone(site.tz):%Y}-{seq:04d}"


def build_data(
    site: Site,
    conn: sqlite3.Connection,
    kind: str,
    exam_id: str | None = None,
    *,
    lang: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    number: str = "DRAFT",
    checkpoint: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The report's data (the embedded results.json), without rendering or signing."""
    if kind not in context.KINDS:
        raise ConfigError(f"unknown report {kind!r} (use one of: {', '.join(context.KINDS)})")
    lang = lang or site.config.point.language
    if lang not in LANGS:
        raise ConfigError(f"unknown language {lang!r} (use ru or en)")
    now = now or utc_now()
    exam = site.exam(exam_id) if exam_id else None
    if exam is None and kind == "readiness":
        exam = site.select_exam(None, now)
    body = context.build(site, conn, kind, exam, date_from=date_from, date_to=date_to)
    if kind == "archive" and exam is None and body["archive"]:
        archived_exam = body["archive"]["raw"].get("exam_id")
        if archived_exam and any(e.id == archived_exam for e in site.config.exams):
            exam = site.exam(archived_exam)
    data = {
        "format": context.FORMAT,
        "generator": f"ppe-tech {__version__}",
        "kind": kind,
        "number": number,
        "lang": lang,
        "created_at": iso(now),
        **context.header(site, exam),
        **body,
        "checkpoint": checkpoint,
    }
    return context.clean(site, data)


def make_report(
    site: Site,
    conn: sqlite3.Connection,
    kind: str,
    exam_id: str | None = None,
    *,
    lang: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    passphrase: bytes | None = None,
    output: Path | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Render, sign (as the technician), write and register a report; return its row."""
    from ppe_tech.keys import load_signing_key
    from ppe_tech.reports.render import data_bytes, render_pdf
    from ppe_tech.reports.sign import sign_pdf

    load_signing_key(site, passphrase)  # fail fast, before the rendering work
    now = now or utc_now()
    checkpoint = _checkpoint(site, conn, passphrase)
    number = _next_number(conn, site, kind, now)
    data = build_data(site, conn, kind, exam_id, lang=lang, date_from=date_from, date_to=date_to,
                      number=number, checkpoint=checkpoint, now=now)  # fmt: skip
    embedded = data_bytes(data)

    pdf = render_pdf(site, data, data["lang"])
    signed = sign_pdf(site, pdf, "technician", lang=data["lang"], passphrase=passphrase)
    path = output or site.reports_dir / f"{number}-{kind}-{data['lang']}.pdf"
    atomic_write_bytes(path, signed)
    exam = data["exam"]["id"] if data.get("exam") else None
    row = {
        "number": number,
        "kind": kind,
        "exam_id": exam,
        "lang": data["lang"],
        "path": _stored_path(site, path),
        "sha256": _sha256(signed),
        "data_sha256": _sha256(embedded),
        "data": embedded.decode("utf-8"),
        "checkpoint": (checkpoint or {}).get("text"),
        "signers": json.dumps(["technician"]),
        "created_at": iso(now),
        "signed_at": iso(utc_now()),
    }
    try:
        with transaction(conn):
            conn.execute(
                f"INSERT INTO reports ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
    except sqlite3.Error as exc:
        raise StorageError(f"cannot register report {number}: {exc}") from None
    return show_report(site, conn, number)


def _read_pdf(path: Path) -> bytes:
    try:
        data = read_regular(Path(path), limit=PDF_LIMIT)
    except FileNotFoundError:
        raise StorageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise StorageError(f"{path}: is a folder, not a PDF file") from None
    except OSError as exc:
        raise StorageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not data.lstrip()[:5] == b"%PDF-":
        raise VerificationFailed(f"{path}: not a PDF file")
    return data


def countersign(
    site: Site,
    conn: sqlite3.Connection,
    path: Path,
    role: str,
    *,
    passphrase: bytes | None = None,
    lang: str | None = None,
) -> dict[str, Any]:
    """Add ``role``'s signature in an incremental update; earlier signatures stay valid."""
    from ppe_tech.reports.sign import sign_pdf
    from ppe_tech.reports.verify import embedded_data, json_object

    path = Path(path)
    pdf = _read_pdf(path)
    raw = embedded_data(pdf)
    data = json_object(raw) if raw else {}
    if data is None:
        raise VerificationFailed(
            f"{path}: its embedded results.json is not a JSON object: not signed"
        )
    number = data.get("number")
    row = (
        conn.execute("SELECT * FROM reports WHERE number = ?", (number,)).fetchone()
        if number
        else None
    )
    signed = sign_pdf(
        site, pdf, role, lang=lang or (row["lang"] if row else None), passphrase=passphrase
    )
    atomic_write_bytes(path, signed)
    if row is not None:
        signers = [*json.loads(row["signers"]), role]
        with transaction(conn):
            conn.execute(
                "UPDATE reports SET sha256 = ?, signers = ?, signed_at = ? WHERE id = ?",
                (_sha256(signed), json.dumps(signers), iso(utc_now()), row["id"]),
            )
    return {
        "file": str(path),
        "role": role,
        "number": number,
        "registered": row is not None,
        "sha256": _sha256(signed),
    }


def _public(row: sqlite3.Row, with_data: bool = False) -> dict[str, Any]:
    item = dict(row)
    item["signers"] = json.loads(item["signers"])
    data = item.pop("data")
    if with_data:
        item["data"] = json.loads(data)
    return item


def list_reports(conn: sqlite3.Connection, kind: str | None = None) -> list[dict[str, Any]]:
    query = "SELECT * FROM reports" + (" WHERE kind = ?" if kind else "") + " ORDER BY id"
    return [_public(r) for r in conn.execute(query, (kind,) if kind else ())]


def show_report(
    site: Site, conn: sqlite3.Connection, ref: str, with_data: bool = False
) -> dict[str, Any]:
    """A report by number, id, ``latest`` or file path."""
    if ref == "latest":
        row = conn.execute("SELECT * FROM reports ORDER BY id DESC LIMIT 1").fetchone()
    elif ref.isdigit():
        row = conn.execute("SELECT * FROM reports WHERE id = ?", (int(ref),)).fetchone()
    else:
        row = conn.execute("SELECT * FROM reports WHERE number = ?", (ref,)).fetchone()
        if row is None and Path(ref).exists():
            stored = _stored_path(site, Path(ref))
            row = conn.execute("SELECT * FROM reports WHERE path = ?", (stored,)).fetchone()
    if row is None:
        raise ConfigError(f"no report {ref!r} (see: ppe-tech report list)")
    item = _public(row, with_data)
    item["file"] = str(site.path(item["path"]))
    return item
