"""Make, countersign, list and show reports: the library behind ``ppe-tech report``.

``make_report`` reads the store (context builders), takes a fresh signed
checkpoint of the PAK log, renders the PDF/A-3b, signs it as the technician,
writes it into the site's ``reports/`` and registers it (number, path, SHA-256
of the file and of the embedded JSON, the checkpoint) in the ``reports`` table.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ppe_tech import __version__
from ppe_tech.errors import ConfigError, StorageError, VerificationFailed
from ppe_tech.fsutil import atomic_write_bytes
from ppe_tech.i18n import _
from ppe_tech.reports import context
from ppe_tech.reports.i18n import LANGS
from ppe_tech.reports.pdf import embedded_data, json_object, read_pdf
from ppe_tech.signers import Ask, role_key
from ppe_tech.store import transaction
from ppe_tech.timeutil import iso, utc_now

if TYPE_CHECKING:
    from ppe_tech.site import Site

log = logging.getLogger("ppe_tech.reports")
ABBREVIATIONS = {
    "readiness": "RDY",
    "act": "ACT",
    "room": "ROOM",
    "archive": "ARC",
    "access-log": "LOG",
}


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
    except VerificationFailed as exc:  # a broken chain: the report says so on page one instead
        log.warning("warning: the PAK log could not be checkpointed: %s", exc.message)
        return {"refused": exc.message}
    return cp.to_json()


def _next_number(
    conn: sqlite3.Connection, site: Site, kind: str, now: datetime, ahead: int = 0
) -> str:
    """The number the next report gets (``ahead``: the one registered that many after it)."""
    seq = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM reports").fetchone()[0] + ahead
    return f"{site.config.point.code}-{ABBREVIATIONS[kind]}-{now.astimezone(site.tz):%Y}-{seq:04d}"


class IncompleteReport(VerificationFailed):
    """A part of the report is missing (exit 1); --allow-incomplete makes it anyway."""


def build_data(
    site: Site,
    conn: sqlite3.Connection,
    kind: str,
    exam_id: str | None = None,
    *,
    lang: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    run_id: int | None = None,
    archive_id: int | None = None,
    bag: str | None = None,
    room: str | None = None,
    allow_incomplete: bool = True,
    number: str = "DRAFT",
    checkpoint: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The report's data (the embedded results.json), without rendering or signing.

    A missing part (no checklist run of the exam, cameras not verified, no archive) raises
    IncompleteReport naming what to run, unless ``allow_incomplete``: then the data list it
    under ``incomplete`` and the title says so.
    """
    if kind not in context.KINDS:
        raise ConfigError(
            _("unknown report {kind!r} (use one of: {known})").format(
                kind=kind, known=", ".join(context.KINDS)
            )
        )
    lang = lang or site.config.point.language
    if lang not in LANGS:
        raise ConfigError(_("unknown language {lang!r} (use ru or en)").format(lang=lang))
    now = now or utc_now()
    exam = site.exam(exam_id) if exam_id else None
    if exam is None and kind in ("readiness", "act", "room"):
        exam = site.select_exam(None, now)
    sel = context.Selection(
        exam=exam,
        run_id=run_id,
        archive_id=archive_id,
        bag=bag,
        room=room,
        date_from=date_from,
        date_to=date_to,
    )
    body = context.build(site, conn, kind, sel)
    missing = context.missing_parts(kind, body)
    if missing and not allow_incomplete:
        raise IncompleteReport(f"{missing[0]['en']} (or make it anyway: --allow-incomplete)")
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
        "incomplete": missing,
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
    room: str | None = None,
    output: Path | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Render, sign (as the technician, with their own key), write and register a report.

    Refuses (IncompleteReport, exit 1) a report with a missing part unless
    ``allow_incomplete``; an archive act is made once per bag. ``options``: those of
    ``make_reports``.
    """
    return make_reports(site, conn, kind, exam_id, rooms=[room], output=output, **options)[0]


def make_reports(
    site: Site,
    conn: sqlite3.Connection,
    kind: str,
    exam_id: str | None = None,
    *,
    rooms: Sequence[str | None] = (None,),
    lang: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    run_id: int | None = None,
    archive_id: int | None = None,
    bag: str | None = None,
    allow_incomplete: bool = False,
    passphrase: bytes | None = None,
    output: Path | None = None,
    now: datetime | None = None,
    ask: Ask = None,
) -> list[dict[str, Any]]:
    """One report per room of ``rooms`` (``(None,)``: the one report of a kind without rooms),
    rendered, signed as the technician, written and registered; their rows, in order.

    Every room is checked before anything is made (a missing part of one refuses them all).
    The PDFs are laid out in worker processes (``render.rendering``: 2 on 2 cores) while this
    process signs, writes and registers each in turn, so the numbers follow ``rooms``; they
    share one checkpoint of the PAK log, taken before.
    """
    from ppe_tech.keys import load_signing_key
    from ppe_tech.reports.render import rendering
    from ppe_tech.reports.sign import signing_as

    if output is not None and len(rooms) > 1:
        raise ConfigError(_("one output file names one report: leave --output out for several"))
    load_signing_key(site, passphrase)  # fail fast, before the rendering work
    technician = role_key(site, "technician")  # refused now when it names someone else
    tech_secret = passphrase if technician.source == "site" else None
    now = now or utc_now()
    select = {
        "lang": lang,
        "date_from": date_from,
        "date_to": date_to,
        "run_id": run_id,
        "archive_id": archive_id,
        "bag": bag,
        "allow_incomplete": allow_incomplete,
    }
    for room in rooms:  # refuse before the checkpoint
        build_data(site, conn, kind, exam_id, **select, room=room, now=now)
    checkpoint = _checkpoint(site, conn, passphrase)
    reports = [
        build_data(
            site,
            conn,
            kind,
            exam_id,
            **select,
            room=room,
            number=_next_number(conn, site, kind, now, ahead),
            checkpoint=checkpoint,
            now=now,
        )
        for ahead, room in enumerate(rooms)
    ]
    if kind == "archive" and reports[0]["archive"]:
        _one_act_per_bag(conn, reports[0]["archive"]["archive_id"], reports[0]["lang"])
    made = []
    with (
        rendering(site, reports) as pdfs,
        signing_as(site, "technician", passphrase=tech_secret, ask=ask) as sign,
    ):
        for room, data, pdf in zip(rooms, reports, pdfs, strict=True):
            signed = sign(pdf, data["lang"])
            name = f"{kind}-{room}" if room else kind
            path = output or site.reports_dir / f"{data['number']}-{name}-{data['lang']}.pdf"
            atomic_write_bytes(path, signed)
            _register(conn, _row(site, data, path, signed, now=now, checkpoint=checkpoint))
            made.append(show_report(site, conn, data["number"]))
    return made


def _row(
    site: Site,
    data: dict[str, Any],
    path: Path,
    signed: bytes,
    *,
    now: datetime,
    checkpoint: dict[str, Any] | None,
) -> dict[str, Any]:
    """The ``reports`` row of a report just signed by the technician and written to ``path``."""
    from ppe_tech.reports.render import data_bytes

    embedded = data_bytes(data)
    return {
        "number": data["number"],
        "kind": data["kind"],
        "exam_id": data["exam"]["id"] if data.get("exam") else None,
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


def _register(conn: sqlite3.Connection, row: dict[str, Any]) -> None:
    """Insert the report's row into ``reports`` in one transaction."""
    try:
        with transaction(conn):
            conn.execute(
                f"INSERT INTO reports ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
    except sqlite3.Error as exc:
        raise StorageError(
            _("cannot register report {number}: {why}").format(number=row["number"], why=exc)
        ) from None


def _one_act_per_bag(conn: sqlite3.Connection, archive_id: int, lang: str) -> None:
    """An archive act is made once per bag (per language): a second one is refused."""
    query = "SELECT number, data FROM reports WHERE kind = 'archive' AND lang = ?"
    for row in conn.execute(query, (lang,)):
        made = json.loads(row["data"]).get("archive") or {}
        if made.get("archive_id") == archive_id:
            raise VerificationFailed(
                _(
                    "the act of archive {id} is already made: {number} "
                    "(see: ppe-tech report show {number})"
                ).format(id=archive_id, number=row["number"])
            )


def countersign(
    site: Site,
    conn: sqlite3.Connection,
    path: Path,
    role: str,
    *,
    passphrase: bytes | None = None,
    lang: str | None = None,
    ask: Ask = None,
) -> dict[str, Any]:
    """Add ``role``'s signature (made with that person's own key) in an incremental update;
    earlier signatures stay valid. A key file other users can read is refused."""
    from ppe_tech.reports.sign import sign_pdf

    path = Path(path)
    pdf = read_pdf(path)
    raw = embedded_data(pdf)
    data = json_object(raw) if raw else {}
    if data is None:
        raise VerificationFailed(
            _("{file}: its embedded results.json is not a JSON object: not signed").format(
                file=path
            )
        )
    number = data.get("number") if isinstance(data.get("number"), str) else None
    row = (
        conn.execute("SELECT * FROM reports WHERE number = ?", (number,)).fetchone()
        if number
        else None
    )
    lang = lang or (row["lang"] if row else None)
    signed = sign_pdf(
        site, pdf, role, lang=lang, passphrase=passphrase, ask=ask, strict_key_file=True
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
        raise ConfigError(_("no report {ref!r} (see: ppe-tech report list)").format(ref=ref))
    item = _public(row, with_data)
    item["file"] = str(site.path(item["path"]))
    return item
