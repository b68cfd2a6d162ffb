"""The PAK access log: append entries to the hash chain, and read them back as journal rows.

Action codes (the official list of the paper journal, DOMAIN.md):

===================  ===================================  ===================================
code                 Russian label                        English label
===================  ===================================  ===================================
performance_check    Проверка работоспособности           Performance check
recording_start      Начало записи                        Start of recording
angle_adjustment     Корректировка ракурса                Camera angle adjustment
card_removal         Извлечение карты памяти              Memory card removal
card_installation    Установка карты памяти               Memory card installation
recording_off        Отключение средства видеозаписи      Switching recording off
export               Копирование (выгрузка) записей       Copying / export of recordings
other                Иное (см. примечание)                Other (see note); a note is required
===================  ===================================  ===================================

People ("performed by", "responsible"): either a staff role of ppe.yaml
(``technician``, ``head``, ...), resolved to that member's name and position
and remembered as the role; or a literal ``"Name, position"`` (the first comma
separates them), stored with no role. A value that is neither (no comma, not a
role) is an unknown role: ``ConfigError`` (exit 2), nothing written. Literal
names that are not in the staff list are allowed but ``pak audit`` reports them.

Times: a naive ``datetime`` is in the point's time zone; an aware one is
converted to it. Entries store local ISO 8601 with offset for the stated times
and UTC for the time they were recorded, plus the OS user who recorded them.

Each entry's ``hash`` is ``sha256(previous hash || canonical bytes)``; the first
entry's previous hash is ``genesis_hash(log_id)``. The canonical bytes are the
entry's fields (``FIELDS``) plus ``"v": 1`` as compact JSON with sorted keys,
UTF-8, no ASCII escaping (``canonical_bytes``). The store keeps exactly these
bytes (``body``) and derives the other columns from them (schema.py). Appends run in
``BEGIN IMMEDIATE`` with ``synchronous=FULL``, so concurrent writers (processes)
serialise and every returned entry is on disk.

Public API (keep these names):

- ``record_action(site, conn, *, action, rooms, start, end=None, performed_by="technician",
  responsible="head", note="") -> dict``: one complete entry (start and optional end).
- ``start_action(site, conn, *, action, rooms, start, ...) -> dict``: an action that spans
  time and is still going; ``end_action(site, conn, start_seq=..., end=...) -> dict`` closes it
  with a new entry pointing at the start.
- ``list_entries(conn, *, date_from=None, date_to=None, room=None, action=None, person=None)
  -> list[dict]``: journal rows, one per action (a start and its end merged).

This module is imported by other jobs (cameras, recordings): standard library only.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from ppe_tech.errors import ConfigError, StorageError
from ppe_tech.i18n import _
from ppe_tech.pak import results
from ppe_tech.pak.results import FIELDS  # the columns the hash covers; "v" is the format version
from ppe_tech.store import transaction

if TYPE_CHECKING:
    from ppe_tech.site import Site

# code -> (Russian label, English label)
ACTIONS: dict[str, tuple[str, str]] = {
    "performance_check": ("Проверка работоспособности", "Performance check"),
    "recording_start": ("Начало записи", "Start of recording"),
    "angle_adjustment": ("Корректировка ракурса", "Camera angle adjustment"),
    "card_removal": ("Извлечение карты памяти", "Memory card removal"),
    "card_installation": ("Установка карты памяти", "Memory card installation"),
    "recording_off": ("Отключение средства видеозаписи", "Switching recording off"),
    "export": ("Копирование (выгрузка) записей", "Copying / export of recordings"),
    "other": ("Иное (см. примечание)", "Other (see note)"),
}


def action_from_words(text: str) -> str | None:
    """The action code for what a person typed: its number in ACTIONS (1-based), its code, or
    its name in Russian or English, in any case (``4``, ``card_removal``, ``извлечение карты
    памяти``). None when it matches none."""
    wanted = " ".join(text.split()).casefold()
    codes = list(ACTIONS)
    if wanted.isdigit() and 1 <= int(wanted) <= len(codes):
        return codes[int(wanted) - 1]
    for code, names in ACTIONS.items():
        if wanted == code or wanted in (name.casefold() for name in names):
            return code
    return None


KINDS = ("action", "start", "end")
FORMAT_VERSION = 1


def action_label(code: str, lang: str = "ru") -> str:
    labels = ACTIONS.get(code)
    if labels is None:
        return code
    return labels[0] if lang == "ru" else labels[1]


def canonical_bytes(entry: dict[str, Any]) -> bytes:
    """The bytes an entry's hash covers: compact JSON, sorted keys, UTF-8 (see module doc)."""
    data = {name: entry.get(name) for name in FIELDS}
    data["v"] = FORMAT_VERSION
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def genesis_hash(log_id: str) -> bytes:
    """The "previous hash" of entry #1: binds the chain to its log id."""
    return hashlib.sha256(f"ppe-tech pak log v1 {log_id}".encode()).digest()


def entry_hash(previous: bytes, entry: dict[str, Any]) -> bytes:
    return hashlib.sha256(previous + canonical_bytes(entry)).digest()


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


# -- validation ------------------------------------------------------------------------------
def check_action(action: str, note: str = "") -> str:
    code = (action or "").strip()
    if code not in ACTIONS:
        known = ", ".join(ACTIONS)
        raise ConfigError(
            _("unknown action {action!r} (known: {known})").format(action=action, known=known)
        )
    if code == "other" and not note.strip():
        raise ConfigError(_("action 'other' needs a note saying what was done (--note)"))
    return code


def resolve_person(site: Site, value: str, what: str | None = None) -> tuple[str, str, str | None]:
    """A staff role, or "Name, position" -> (name, position, role or None); ``what`` (in the
    current language) names the field in the refusal, ``person`` when None."""
    text = (value or "").strip()
    staff = site.config.staff
    if text in staff:
        member = staff[text]
        return member.name, member.position, text
    if "," in text:
        name, _comma, position = text.partition(",")
        name, position = name.strip(), position.strip()
        if name and position:
            for role, member in staff.items():
                if member.name == name and member.position == position:
                    return name, position, role
            return name, position, None
    known = ", ".join(staff)
    raise ConfigError(
        _(
            '{what}: unknown staff role {value!r} (known: {known}; or write "Name, position")'
        ).format(what=what or _("person"), value=value, known=known)
    )


def local_time(site: Site, moment: datetime) -> datetime:
    """A naive time is in the point's zone; an aware one is converted to it."""
    if not isinstance(moment, datetime):
        raise ConfigError(_("expected a date and time, not {moment!r}").format(moment=moment))
    if moment.tzinfo is None:
        return moment.replace(tzinfo=site.tz)
    return moment.astimezone(site.tz)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def utc_stamp(moment: datetime | None = None) -> str:
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_when(site: Site, text: str, day: date | None = None) -> datetime:
    """``10:00`` (on ``day``, default today at the point), ``2026-05-28 10:00`` or ISO 8601."""
    value = (text or "").strip()
    try:
        if len(value) <= 5 and ":" in value:
            hours, minutes = (int(part) for part in value.split(":"))
            base = day or datetime.now(site.tz).date()
            return datetime(base.year, base.month, base.day, hours, minutes, tzinfo=site.tz)
        return local_time(site, datetime.fromisoformat(value.replace(" ", "T", 1)))
    except ValueError:
        raise ConfigError(
            _("{text!r} is not a time (use HH:MM, 'YYYY-MM-DD HH:MM' or ISO 8601)").format(
                text=text
            )
        ) from None


# -- appending -------------------------------------------------------------------------------
def make_entry(
    site: Site,
    *,
    kind: str,
    action: str,
    rooms: str,
    start: datetime,
    end: datetime | None,
    performed_by: str,
    responsible: str | None,
    note: str,
    end_of: int | None = None,
    recorded_at: str | None = None,
    user: str | None = None,
) -> dict[str, Any]:
    """A validated entry (FIELDS without seq) for ``append_entries``; ConfigError on bad input.

    ``recorded_at`` and ``user`` default to now and the OS user (imports and the demo set them).
    """
    note = (note or "").strip()
    code = check_action(action, note)
    rooms = (rooms or "").strip()
    if not rooms:
        raise ConfigError(_("say which room(s) the action was in (--room)"))
    start = local_time(site, start)
    if end is not None:
        end = local_time(site, end)
        if end < start:
            raise ConfigError(
                _("the end {end} is before the start {start}").format(
                    end=_stamp(end), start=_stamp(start)
                )
            )
    pname, pposition, prole = resolve_person(site, performed_by, _("performed by"))
    # no responsible person (None): the cell is left for the journal's reader to fill
    rname, rposition, rrole = (
        resolve_person(site, responsible, _("responsible"))
        if responsible is not None
        else ("", "", None)
    )
    for what, text in (
        (_("room"), rooms),
        (_("note"), note),
        (_("performed by"), pname + pposition),
        (_("responsible"), rname + rposition),
    ):
        if _CONTROL.search(text):
            raise ConfigError(
                _("{what}: control characters are not allowed (tab and newline are)").format(
                    what=what
                )
            )
        if len(text) > MAX_TEXT:  # a paper journal's cell, not a file: 130 KB stalled a report
            raise ConfigError(
                _("{what}: {n} characters, at most {limit} are allowed").format(
                    what=what, n=f"{len(text):,}", limit=f"{MAX_TEXT:,}"
                )
            )
    return {
        "kind": kind,
        "action": code,
        "rooms": rooms,
        "start_at": _stamp(start),
        "end_at": _stamp(end) if end is not None else None,
        "end_of": end_of,
        "performed_name": pname,
        "performed_position": pposition,
        "performed_role": prole,
        "responsible_name": rname,
        "responsible_position": rposition,
        "responsible_role": rrole,
        "note": note,
        "recorded_at": recorded_at or utc_stamp(),
        "os_user": user or os_user(),
    }


MAX_TEXT = 2000  # characters of one field (room, note, person) of an entry
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@contextlib.contextmanager
def _appending(conn: sqlite3.Connection) -> Iterator[None]:
    """A durable ``BEGIN IMMEDIATE`` transaction, or the one the caller already holds."""
    if conn.in_transaction:  # the caller's transaction: append within it, the caller commits
        yield
        return
    conn.execute("PRAGMA synchronous=FULL")
    with transaction(conn):
        yield


def _head(conn: sqlite3.Connection) -> tuple[int, bytes]:
    """(seq, hash) of the newest entry; (0, the genesis hash) for an empty log."""
    return results.head(conn) or (0, genesis_hash(results.log_id(conn)))


def append_entries(conn: sqlite3.Connection, entries: Iterable[dict[str, Any]]) -> list[dict]:
    """Append prepared entries (dicts of FIELDS without seq) in one durable transaction.

    The batch path: the demo, imports and the benchmark use it to write many
    entries at once; the chain is the same as one append at a time.
    """
    written = []
    try:
        with _appending(conn):
            seq, previous = _head(conn)
            rows = []
            for entry in entries:
                seq += 1
                entry = {**entry, "seq": seq}
                body = canonical_bytes(entry)
                previous = hashlib.sha256(previous + body).digest()
                entry["hash"] = previous
                rows.append((seq, body.decode(), previous))
                written.append(entry)
            results.insert_entries(conn, rows)
    except sqlite3.IntegrityError as exc:
        raise StorageError(_("the PAK log refused the entry: {why}").format(why=exc)) from None
    except sqlite3.OperationalError as exc:
        raise StorageError(_("cannot write the PAK log: {why}").format(why=exc)) from None
    return [_public(entry) for entry in written]


def _public(entry: dict[str, Any]) -> dict[str, Any]:
    out = {key: value for key, value in entry.items() if key != "body"}
    out["hash"] = bytes(entry["hash"]).hex()
    return out


def record_action(
    site: Site,
    conn: sqlite3.Connection,
    *,
    action: str,
    rooms: str,
    start: datetime,
    end: datetime | None = None,
    performed_by: str = "technician",
    responsible: str | None = "head",
    note: str = "",
) -> dict:
    """Append one complete entry; return it (with ``seq`` and hex ``hash``).

    ``action``: a code of ``ACTIONS``; ``rooms``: free text ("Auditorium 0001,
    Staff room"); ``start``/``end``: when it happened (naive = point's time zone);
    ``performed_by``/``responsible``: a staff role or "Name, position" (``responsible``
    None: nobody named, the cell stays empty). Raises
    ConfigError (exit 2) on bad input, with nothing written.
    """
    entry = make_entry(
        site,
        kind="action",
        action=action,
        rooms=rooms,
        start=start,
        end=end,
        performed_by=performed_by,
        responsible=responsible,
        note=note,
    )
    return append_entries(conn, [entry])[0]


def start_action(
    site: Site,
    conn: sqlite3.Connection,
    *,
    action: str,
    rooms: str,
    start: datetime,
    performed_by: str = "technician",
    responsible: str = "head",
    note: str = "",
) -> dict:
    """Append the start of an action that spans time; close it later with ``end_action``."""
    entry = make_entry(
        site,
        kind="start",
        action=action,
        rooms=rooms,
        start=start,
        end=None,
        performed_by=performed_by,
        responsible=responsible,
        note=note,
    )
    return append_entries(conn, [entry])[0]


def open_starts(conn: sqlite3.Connection) -> list[dict]:
    """Start entries that have no end entry yet."""
    return [_public(row) for row in results.open_starts(conn)]


def end_action(
    site: Site,
    conn: sqlite3.Connection,
    *,
    start_seq: int | None = None,
    end: datetime,
    performed_by: str | None = None,
    responsible: str | None = None,
    note: str = "",
) -> dict:
    """Append the end of the action started by entry ``start_seq`` (None: the only open one).

    The end entry copies the start's action, rooms and start time and points at
    it (``end_of``). People default to the start's. ConfigError (exit 2) when
    there is no such open start or the end is before the start.
    """
    with _appending(conn):
        if start_seq is None:
            opened = open_starts(conn)
            if len(opened) != 1:
                listed = ", ".join(f"#{e['seq']} {e['action']} {e['rooms']}" for e in opened)
                raise ConfigError(
                    _("no action was started, nothing to end")
                    if not opened
                    else _("several actions are open ({listed}): say which one to end").format(
                        listed=listed
                    )
                )
            start_seq = opened[0]["seq"]
        row = results.entry(conn, start_seq)
        if row is None or row["kind"] != "start":
            what = (
                _("no such entry")
                if row is None
                else _("it is an entry of kind {kind}").format(kind=row["kind"])
            )
            raise ConfigError(
                _("entry #{n} is not the start of an action ({why})").format(n=start_seq, why=what)
            )
        if results.has_end(conn, start_seq):
            raise ConfigError(
                _("the action started by entry #{n} has already ended").format(n=start_seq)
            )

        def person(value: str | None, name: str, position: str) -> str:
            return value if value is not None else f"{name}, {position}"

        entry = make_entry(
            site,
            kind="end",
            action=row["action"],
            rooms=row["rooms"],
            start=datetime.fromisoformat(row["start_at"]),
            end=end,
            end_of=start_seq,
            performed_by=person(performed_by, row["performed_name"], row["performed_position"]),
            responsible=person(responsible, row["responsible_name"], row["responsible_position"]),
            note=note or ("" if row["action"] != "other" else row["note"]),
        )
        return append_entries(conn, [entry])[0]


# -- reading ---------------------------------------------------------------------------------
def _as_date(value: date | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ConfigError(
            _("{value!r} is not a date (use YYYY-MM-DD)").format(value=value)
        ) from None


def _person(name: str, position: str) -> str:
    return f"{name}, {position}" if name or position else ""


def journal_row(entry: dict[str, Any], end: dict[str, Any] | None) -> dict[str, Any]:
    """One journal row from an action or start entry and (for a start) its end entry."""
    start_at = entry["start_at"]  # local ISO 8601: date and clock time are its slices
    end_at = end["end_at"] if end else entry["end_at"]
    ru, en = ACTIONS.get(entry["action"], (entry["action"], entry["action"]))
    note = entry["note"]
    if end and end["note"] and end["note"] != note:
        note = f"{note}; {end['note']}" if note else end["note"]
    return {
        "no": entry["seq"],
        "date": start_at[:10],
        "rooms": entry["rooms"],
        "start": start_at[11:16],
        "end": end_at[11:16] if end_at else None,
        "action": entry["action"],
        "action_ru": ru,
        "action_en": en,
        "performed_by": _person(entry["performed_name"], entry["performed_position"]),
        "responsible": _person(entry["responsible_name"], entry["responsible_position"]),
        "note": note,
        "start_at": entry["start_at"],
        "end_at": end_at,
        "open": entry["kind"] == "start" and end is None,
        "ended_by": _person(end["performed_name"], end["performed_position"]) if end else None,
        "end_seq": end["seq"] if end else None,
        "performed_role": entry["performed_role"],
        "responsible_role": entry["responsible_role"],
        "recorded_at": entry["recorded_at"],
        "end_recorded_at": end["recorded_at"] if end else None,
        "os_user": entry["os_user"],
        "hash": bytes(entry["hash"]).hex(),
    }


def list_entries(
    conn: sqlite3.Connection,
    *,
    date_from: date | str | None = None,
    date_to: date | str | None = None,
    room: str | None = None,
    action: str | None = None,
    person: str | None = None,
) -> list[dict]:
    """The journal as rows, one per action, in the order of their numbers.

    Each row has the official columns: ``no`` (seq of the entry), ``date``
    (YYYY-MM-DD, the point's time zone), ``rooms``, ``start`` and ``end``
    (HH:MM; ``end`` None for a point in time or a start not ended yet),
    ``action`` (code) with ``action_ru``/``action_en``, ``performed_by`` and
    ``responsible`` ("Name, position"), ``note``; plus ``start_at``/``end_at``
    (ISO), ``open`` (a start without end), ``ended_by``, ``end_seq``, the roles,
    ``recorded_at`` (UTC), ``os_user`` and ``hash`` (hex).

    Filters: ``date_from``/``date_to`` inclusive on the date; ``room`` a
    case-insensitive substring of the rooms; ``action`` a code; ``person`` a
    case-insensitive substring of performed-by or responsible (name, position
    or role). Reads; never verifies (see ``ppe_tech.pak.chain.verify_log``).
    """
    where: list[str] = []
    params: list[Any] = []
    if (low := _as_date(date_from)) is not None:
        where.append("substr(start_at, 1, 10) >= ?")
        params.append(low)
    if (high := _as_date(date_to)) is not None:
        where.append("substr(start_at, 1, 10) <= ?")
        params.append(high)
    if action:
        check_action(action, "-")
        where.append("action = ?")
        params.append(action)
    entries = results.select_entries(conn, where=where, params=params)
    ends = results.ends_by_start(conn)
    rows = []
    room_text = room.casefold() if room else None
    person_text = person.casefold() if person else None
    for entry in entries:
        if room_text and room_text not in entry["rooms"].casefold():
            continue
        row = journal_row(entry, ends.get(entry["seq"]))
        if person_text:
            haystack = " ".join(
                str(v)
                for v in (
                    row["performed_by"],
                    row["responsible"],
                    row["ended_by"],
                    row["performed_role"],
                    row["responsible_role"],
                )
                if v
            ).casefold()
            if person_text not in haystack:
                continue
        rows.append(row)
    return rows
