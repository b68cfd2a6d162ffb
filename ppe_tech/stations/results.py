"""Station runs in the store, each station's state and each room's and the point's readiness.

This is the read and write API the reports (per-room protocols) and the browser console use:

- ``StationResult``: one station check (a verified result file, or a hand confirmation),
  with its ``StationItem`` rows; ``save_station_run`` stores it, ``list_station_runs`` and
  ``load_station_run`` read it back.
- ``station_states(conn, site, exam)``: one ``StationState`` per configured station:
  passed | failed | confirmed | stale | not-checked.
- ``room_readiness`` / ``point_readiness``: a room is ready when every station of it passed
  or was confirmed by hand for this exam and every camera of it verified; the point when
  every room is. Each type has one ``to_json()``, the documented JSON form.

A check counts for an exam when it was made for that exam and finished no earlier than the
start of the day before the exam (the day-before window, local time); anything else is stale.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from functools import partial
from typing import Any, TypeVar

from ppe_tech.cameras.findings import status_label
from ppe_tech.errors import ConfigError
from ppe_tech.i18n import _
from ppe_tech.site import Exam, Room, Site, Station
from ppe_tech.store import transaction
from ppe_tech.timeutil import human_duration, iso, utc_now

HOW_RUN, HOW_HAND = "station run", "by hand"
PASSED, FAILED, CONFIRMED, STALE, NOT_CHECKED = (
    "passed",
    "failed",
    "confirmed",
    "stale",
    "not-checked",
)
GOOD_STATES = (PASSED, CONFIRMED)
CAMERA_GOOD = ("ok", "warning")  # a camera verified with warnings still streams a usable picture

Translate = Callable[[str], str]


def _as_is(message: str) -> str:
    """The English source text: what the data keep (JSON, the console, the reports), whatever
    the language; given as ``_`` to the functions below, which say everything twice."""
    return message


def role_label(role: str, _: Translate = _) -> str:
    """A station role as printed: ``print`` in English, ``печать`` in Russian."""
    labels = {
        "print": _("print"),
        "scan": _("scan"),
        "authorisation": _("authorisation"),
        "backup-print": _("backup-print"),
        "backup-scan": _("backup-scan"),
        "backup-authorisation": _("backup-authorisation"),
        "other": _("other"),
    }
    return labels.get(role, role)


def role_station(role: str, station_id: str, _: Translate = _) -> str:
    """``print station print-0003`` (``станция печати print-0003``)."""
    names = {
        "print": _("print station {id}"),
        "scan": _("scan station {id}"),
        "authorisation": _("authorisation station {id}"),
        "backup-print": _("backup-print station {id}"),
        "backup-scan": _("backup-scan station {id}"),
        "backup-authorisation": _("backup-authorisation station {id}"),
        "other": _("other station {id}"),
    }
    return names.get(role, _("{role} station {id}")).format(role=role, id=station_id)


def room_label(kind: str, number: str, _: Translate = _) -> str:
    """``auditorium 0003`` / ``staff room 7777`` (``аудитория 0003`` / ``штаб 7777``)."""
    labels = {
        "auditorium": _("auditorium {number}"),
        "staff-room": _("staff room {number}"),
        "other": _("other {number}"),
    }
    return labels.get(kind, "{kind} {number}").format(kind=kind, number=number)


def how_label(how: str | None) -> str:
    """``station run`` / ``by hand`` as printed (``-`` when not checked)."""
    return {HOW_RUN: _("station run"), HOW_HAND: _("by hand")}.get(how or "", how or "-")


def state_label(state: str) -> str:
    """A station's state as printed: ``passed``, ``not-checked`` ... (``пройдена`` ...)."""
    labels = {
        PASSED: _("passed"),
        FAILED: _("failed"),
        CONFIRMED: _("confirmed"),
        STALE: _("stale"),
        NOT_CHECKED: _("not-checked"),
    }
    return labels.get(state, state)


@dataclass(frozen=True)
class StationItem:
    """One checklist item of a station check, as the station (or the technician) saw it."""

    item_id: str
    section_id: str
    title_ru: str
    title_en: str
    severity: str  # critical | warning | info
    kind: str  # probe type, or manual
    status: str  # pass | fail | timeout | error | skip | unanswered | interrupted
    value: str | None
    expected: str | None
    message: str
    duration_ms: int
    attempts: int
    answered_by: str | None
    comment: str | None
    finished_at: str  # ISO 8601

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StationItem:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class StationResult:
    """A station check: run on the station (``how`` = "station run") or confirmed by hand.

    ``run_id``, ``file_sha256``, ``source`` and ``imported_at`` are set once it is stored.
    ``machine`` (host_name, os, os_version, macs) comes from the station itself;
    ``reachable`` (host, port, reachable, detail) from the technician's machine.
    """

    point_code: str
    station_id: str
    room: str
    role: str
    exam_id: str | None
    how: str
    status: str  # passed | failed | interrupted
    checklist: str
    checklist_sha256: str
    ppe_tech_version: str
    started_at: datetime
    finished_at: datetime
    operator: str
    items: tuple[StationItem, ...]
    confirmed_by: str | None = None
    machine: dict[str, Any] | None = None
    reachable: dict[str, Any] | None = None
    key_id: str | None = None
    run_id: int | None = None
    file_sha256: str | None = None
    source: str | None = None
    imported_at: datetime | None = None

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def failed_items(self) -> list[str]:
        """Critical items that did not pass (what makes the check fail)."""
        return [i.item_id for i in self.items if i.severity == "critical" and i.status != "pass"]

    def to_json(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["items"] = [item.to_json() for item in self.items]
        for name in ("started_at", "finished_at", "imported_at"):
            data[name] = iso(data[name]) if data[name] else None
        data["failed_items"] = self.failed_items
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StationResult:
        """The inverse of ``to_json`` (KeyError/TypeError/ValueError on a malformed mapping)."""
        values: dict[str, Any] = {name: data.get(name) for name in cls.__dataclass_fields__}
        values["items"] = tuple(StationItem.from_json(i) for i in data["items"])
        for name in ("started_at", "finished_at", "imported_at"):
            values[name] = datetime.fromisoformat(values[name]) if values[name] else None
        return cls(**values)


# -- the store --------------------------------------------------------------------------------

_RUN_COLUMNS = (
    "point_code",
    "station_id",
    "room",
    "role",
    "exam_id",
    "how",
    "status",
    "checklist",
    "checklist_sha256",
    "ppe_tech_version",
    "started_at",
    "finished_at",
    "operator",
    "confirmed_by",
    "machine",
    "reachable",
    "key_id",
    "file_sha256",
    "source",
    "imported_at",
)
_ITEM_COLUMNS = tuple(StationItem.__dataclass_fields__)


def save_station_run(conn: sqlite3.Connection, result: StationResult) -> int:
    """Store a station check with its items in one transaction; return its ``run_id``.

    A result whose ``file_sha256`` is already stored is not stored again: the existing
    ``run_id`` is returned (``station import`` is idempotent).
    """
    with transaction(conn):
        if result.file_sha256:
            row = conn.execute(
                "SELECT run_id FROM station_runs WHERE file_sha256 = ?", (result.file_sha256,)
            ).fetchone()
            if row:
                return int(row[0])
        values = _run_row(result)
        cursor = conn.execute(
            f"INSERT INTO station_runs ({', '.join(_RUN_COLUMNS)})"
            f" VALUES ({', '.join('?' * len(_RUN_COLUMNS))})",
            [values[c] for c in _RUN_COLUMNS],
        )
        run_id = int(cursor.lastrowid or 0)
        conn.executemany(
            f"INSERT INTO station_items (run_id, position, {', '.join(_ITEM_COLUMNS)})"
            f" VALUES (?, ?, {', '.join('?' * len(_ITEM_COLUMNS))})",
            [
                (run_id, position, *(getattr(item, c) for c in _ITEM_COLUMNS))
                for position, item in enumerate(result.items)
            ],
        )
    return run_id


def _run_row(result: StationResult) -> dict[str, Any]:
    row = {name: getattr(result, name) for name in _RUN_COLUMNS}
    for name in ("machine", "reachable"):
        row[name] = None if row[name] is None else json.dumps(row[name], ensure_ascii=False)
    row["started_at"], row["finished_at"] = iso(result.started_at), iso(result.finished_at)
    row["imported_at"] = iso(result.imported_at or utc_now())
    return row


def stored_run_id(conn: sqlite3.Connection, file_sha256: str) -> int | None:
    """The ``run_id`` of an already imported file, or None."""
    row = conn.execute(
        "SELECT run_id FROM station_runs WHERE file_sha256 = ?", (file_sha256,)
    ).fetchone()
    return None if row is None else int(row[0])


def _result(conn: sqlite3.Connection, row: sqlite3.Row) -> StationResult:
    items = tuple(
        StationItem(**{c: r[c] for c in _ITEM_COLUMNS})
        for r in conn.execute(
            "SELECT * FROM station_items WHERE run_id = ? ORDER BY position", (row["run_id"],)
        )
    )
    values: dict[str, Any] = {c: row[c] for c in _RUN_COLUMNS}
    for name in ("machine", "reachable"):
        values[name] = None if values[name] is None else json.loads(values[name])
    for name in ("started_at", "finished_at", "imported_at"):
        values[name] = datetime.fromisoformat(values[name])
    return StationResult(**values, items=items, run_id=row["run_id"])


def list_station_runs(
    conn: sqlite3.Connection, *, exam_id: str | None = None, station_id: str | None = None
) -> list[StationResult]:
    """Stored station checks, oldest first; only those of ``exam_id`` / ``station_id`` if given."""
    where, args = [], []
    for column, value in (("exam_id", exam_id), ("station_id", station_id)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    query = "SELECT * FROM station_runs" + (f" WHERE {' AND '.join(where)}" if where else "")
    rows = conn.execute(query + " ORDER BY finished_at, run_id", args).fetchall()
    return [_result(conn, row) for row in rows]


def load_station_run(conn: sqlite3.Connection, run_id: int) -> StationResult:
    row = conn.execute("SELECT * FROM station_runs WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise ConfigError(_("no station run {run} (see: ppe-tech stations)").format(run=run_id))
    return _result(conn, row)


# -- states and readiness ----------------------------------------------------------------------


@dataclass(frozen=True)
class StationState:
    """Where one configured station stands for an exam."""

    station_id: str
    role: str
    room: str
    state: str  # passed | failed | confirmed | stale | not-checked
    reason: str  # one line: "passed", "failed: printer-ready", "never checked", ...
    reason_text: str  # the reason in the language of the command line (not in the JSON)
    how: str | None = None  # station run | by hand
    checked_at: datetime | None = None
    exam_id: str | None = None  # the exam the counted (or stale) check was made for
    run_id: int | None = None
    failed_items: tuple[str, ...] = ()
    reachable: bool | None = None  # by hand, with a host: did it answer on the LAN

    @property
    def ok(self) -> bool:
        return self.state in GOOD_STATES

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["reason_text"]
        data["checked_at"] = iso(self.checked_at) if self.checked_at else None
        data["failed_items"] = list(self.failed_items)
        data["ok"] = self.ok
        return data


@dataclass(frozen=True)
class CameraState:
    camera_id: str
    status: str  # ok | warning | fail | not-verified
    checked_at: datetime | None = None
    run_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in CAMERA_GOOD

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["checked_at"] = iso(self.checked_at) if self.checked_at else None
        data["ok"] = self.ok
        return data


@dataclass(frozen=True)
class RoomReadiness:
    number: str
    kind: str  # auditorium | staff-room | other
    name: str
    ready: bool
    stations: tuple[StationState, ...]
    cameras: tuple[CameraState, ...]
    reasons: tuple[str, ...]  # why it is not ready, one short phrase each
    reason_texts: tuple[str, ...]  # the reasons in the language of the command line

    @property
    def label(self) -> str:
        return room_label(self.kind, self.number, _as_is)

    @property
    def label_text(self) -> str:
        return room_label(self.kind, self.number)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind,
            "name": self.name,
            "ready": self.ready,
            "reasons": list(self.reasons),
            "stations": [s.to_json() for s in self.stations],
            "cameras": [c.to_json() for c in self.cameras],
        }


@dataclass(frozen=True)
class PointReadiness:
    point_code: str
    exam_id: str
    deadline: datetime
    computed_at: datetime
    rooms: tuple[RoomReadiness, ...]
    ready: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ready", all(room.ready for room in self.rooms))

    @property
    def summary(self) -> str:
        """``ready, 1 h 52 min before the deadline`` or ``not ready: auditorium 0003: ...``."""
        return self._summary(_as_is)

    def summary_text(self) -> str:
        """The summary in the language of the command line."""
        return self._summary(_)

    def _summary(self, _: Translate) -> str:
        if not self.ready:
            rooms = [room for room in self.rooms if not room.ready]
            return _("not ready: {rooms}").format(
                rooms="; ".join(
                    f"{room_label(room.kind, room.number, _)}: "
                    + ", ".join(room.reasons if _ is _as_is else room.reason_texts)
                    for room in rooms
                )
            )
        left = self.deadline - self.computed_at
        lang = "en" if _ is _as_is else None
        when = (
            _("ready, {left} before the deadline")
            if left >= timedelta(0)
            else _("ready, {left} after the deadline")
        )
        return when.format(left=human_duration(abs(left), lang))

    def to_json(self) -> dict[str, Any]:
        return {
            "point_code": self.point_code,
            "exam_id": self.exam_id,
            "deadline": iso(self.deadline),
            "computed_at": iso(self.computed_at),
            "ready": self.ready,
            "summary": self.summary,
            "rooms": [room.to_json() for room in self.rooms],
        }


def window_start(site: Site, exam: Exam) -> datetime:
    """The start of the day before the exam, in the point's time zone: older checks are stale."""
    return datetime.combine(exam.date - timedelta(days=1), time(0), tzinfo=site.tz)


def station_state(
    station: Station, runs: Iterable[StationResult], site: Site, exam: Exam
) -> StationState:
    """The state of one station from its stored checks (any order)."""
    ordered = sorted(runs, key=lambda r: (r.finished_at, r.run_id or 0))
    since = window_start(site, exam)
    counted = [r for r in ordered if r.exam_id == exam.id and r.finished_at >= since]
    base = StationState(station.id, station.role, station.room, NOT_CHECKED, *_said(_never_checked))
    if not counted:
        if not ordered:
            return base
        last = ordered[-1]
        other = last.exam_id if last.exam_id != exam.id else None
        return _with_run(base, last, STALE, lambda _: _stale(other, _))
    last = counted[-1]
    if last.passed:
        state = CONFIRMED if last.how == HOW_HAND else PASSED
        why = _confirmed_by_hand if state == CONFIRMED else _passed
        return _with_run(base, last, state, why)
    failed = ", ".join(last.failed_items or [last.status])
    return _with_run(base, last, FAILED, lambda _: _("failed: {items}").format(items=failed))


T = TypeVar("T")


def _said(say: Callable[[Translate], T]) -> tuple[T, T]:
    """``say`` in English (the data) and in the language of the command line (the reader)."""
    return say(_as_is), say(_)


def _never_checked(_: Translate) -> str:
    return _("never checked")


def _passed(_: Translate) -> str:
    return _("passed")


def _confirmed_by_hand(_: Translate) -> str:
    return _("confirmed by hand")


def _stale(other_exam: str | None, _: Translate) -> str:
    if other_exam:
        return _("stale: checked for exam {exam}").format(exam=other_exam)
    return _("stale: checked before the day-before window")


def _with_run(
    base: StationState, run: StationResult, state: str, say: Callable[[Translate], str]
) -> StationState:
    reachable = run.reachable.get("reachable") if run.reachable else None
    reason, reason_text = _said(say)
    return replace(
        base,
        state=state,
        reason=reason,
        reason_text=reason_text,
        how=run.how,
        checked_at=run.finished_at,
        exam_id=run.exam_id,
        run_id=run.run_id,
        failed_items=tuple(run.failed_items) if state == FAILED else (),
        reachable=reachable,
    )


def station_states(conn: sqlite3.Connection, site: Site, exam: Exam) -> list[StationState]:
    """One state per station of ppe.yaml, in the order ppe.yaml lists them."""
    by_station: dict[str, list[StationResult]] = {}
    for run in list_station_runs(conn):
        by_station.setdefault(run.station_id, []).append(run)
    return [station_state(s, by_station.get(s.id, []), site, exam) for s in site.config.stations]


def camera_states(conn: sqlite3.Connection, site: Site, exam: Exam) -> dict[str, CameraState]:
    """The newest verification of each camera since the day-before window."""
    since = iso(window_start(site, exam).astimezone(UTC))  # the store keeps UTC
    rows = conn.execute(
        "SELECT r.camera_id, r.status, r.run_id, c.finished_at FROM camera_results r"
        " JOIN camera_runs c ON c.id = r.run_id"
        " WHERE c.finished_at IS NOT NULL AND c.finished_at >= ? ORDER BY c.finished_at, r.run_id",
        (since,),
    ).fetchall()
    states = {cam.id: CameraState(cam.id, "not-verified") for cam in site.config.cameras}
    for row in rows:
        if row["camera_id"] in states:
            states[row["camera_id"]] = CameraState(
                row["camera_id"],
                row["status"],
                datetime.fromisoformat(row["finished_at"]),
                row["run_id"],
            )
    return states


def _room_reasons(
    room: Room, stations: list[StationState], cameras: list[CameraState], _: Translate
) -> tuple[str, ...]:
    reasons = []
    if room.kind == "auditorium" and not any(s.role == "print" for s in stations):
        reasons.append(_("no print station in ppe.yaml"))
    for state in stations:
        if not state.ok:
            detail = state.reason if _ is _as_is else state.reason_text
            reasons.append(f"{role_station(state.role, state.station_id, _)} {detail}")
    if room.kind in ("auditorium", "staff-room") and not cameras:
        reasons.append(_("no camera in ppe.yaml"))
    reasons += [
        _("camera {camera} {status}").format(camera=c.camera_id, status=status_label(c.status, _))
        for c in cameras
        if not c.ok
    ]
    return tuple(reasons)


def room_readiness(conn: sqlite3.Connection, site: Site, exam: Exam) -> list[RoomReadiness]:
    """Each room of the point (ppe.yaml order) with its stations, cameras and what is missing."""
    stations = station_states(conn, site, exam)
    cameras = camera_states(conn, site, exam)
    rooms = []
    for room in site.rooms:
        mine = [s for s in stations if s.room == room.number]
        filmed = [cameras[c.id] for c in site.config.cameras if site.camera_room(c) == room.number]
        reasons, texts = _said(partial(_room_reasons, room, mine, filmed))
        rooms.append(
            RoomReadiness(
                number=room.number,
                kind=room.kind,
                name=room.name,
                ready=not reasons,
                stations=tuple(mine),
                cameras=tuple(filmed),
                reasons=reasons,
                reason_texts=texts,
            )
        )
    return rooms


def point_readiness(
    conn: sqlite3.Connection, site: Site, exam: Exam, *, now: datetime | None = None
) -> PointReadiness:
    """The point is ready when every room is; ``summary`` says so against the deadline."""
    return PointReadiness(
        point_code=site.config.point.code,
        exam_id=exam.id,
        deadline=site.deadline(exam),
        computed_at=now or utc_now(),
        rooms=tuple(room_readiness(conn, site, exam)),
    )
