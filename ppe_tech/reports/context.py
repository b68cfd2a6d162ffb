"""Context builders: what each report shows, read from the store (never written here).

Each builder returns plain JSON-able data; that data is both the template
context and the ``results.json`` embedded in the PDF. A job that has stored
nothing yet gives ``None``, which the templates show as "absent". Builders read
each job through its public read API, in the shapes those functions document.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ppe_tech.errors import ConfigError
from ppe_tech.fsutil import format_size
from ppe_tech.i18n import _
from ppe_tech.reports.regions import region_name
from ppe_tech.timeutil import iso

if TYPE_CHECKING:
    from ppe_tech.site import Exam, Site

KINDS = ("readiness", "act", "room", "archive", "access-log")
FORMAT = "ppe-tech-report/1"
ROLES = ("technician", "head", "commission", "organisation_head")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "to_json"):
        return _jsonable(value.to_json())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _redacted(site: Site, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _redacted(site, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(site, v) for v in value]
    if isinstance(value, str):
        return site.redact(value)
    return value


# -- common header --------------------------------------------------------------------------
def header(site: Site, exam: Exam | None) -> dict[str, Any]:
    config = site.config
    staff = {
        role: {"name": config.staff[role].name, "position": config.staff[role].position}
        for role in ROLES
        if role in config.staff
    }
    exam_data = None
    if exam is not None:
        exam_data = {
            "id": exam.id,
            "subject": exam.subject,
            "date": exam.date.isoformat(),
            "start": exam.start.strftime("%H:%M"),
            "start_at": iso(exam.start_at(site.tz)),
            "end_at": iso(exam.end_at(site.tz)),
            "deadline": iso(site.deadline(exam)),
        }
    point = config.point.model_dump(mode="json")
    point["region_name"] = region_name(config.point.region)
    return {
        "point": point,
        "staff": staff,
        "exam": exam_data,
    }


# -- readiness protocol ---------------------------------------------------------------------
def _run_sections(run: dict[str, Any]) -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = []
    by_id: dict[str, dict[str, Any]] = {}
    for r in run.get("results", []):
        sid = r["section_id"]
        if sid not in by_id:
            by_id[sid] = {
                "id": sid,
                "title_ru": r["section_ru"],
                "title_en": r["section_en"],
                "items": [],
            }
            sections.append(by_id[sid])
        by_id[sid]["items"].append(
            {
                "id": r["item_id"],
                "title_ru": r["title_ru"],
                "title_en": r["title_en"],
                "severity": r["severity"],
                "kind": r["kind"],
                "status": r["status"],
                "value": r["value"],
                "expected": r["expected"],
                "message": r["message"],
                "answered_by": r["answered_by"],
                "comment": r["comment"],
                "finished_at": r["finished_at"],
                "duration_ms": r["duration_ms"],
                "attempts": r["attempts"],
            }
        )
    return sections


def _run_data(run: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "checklist",
        "title_ru",
        "title_en",
        "exam_id",
        "started_at",
        "finished_at",
        "deadline",
        "late_minutes",
        "status",
        "operator",
        "disabled_items",
    )
    return {
        "run_id": run["run_id"],
        **{k: run[k] for k in keys},
        "timeliness": run.get("timeliness"),
        "counts": run.get("counts", {}),
        "sections": _run_sections(run),
    }


def checklist_runs(
    conn: sqlite3.Connection, exam_id: str | None, run_id: int | None = None
) -> list[dict[str, Any]]:
    """The checklist runs a protocol of ``exam_id`` shows: run ``run_id`` (it must belong to
    that exam), else the latest run of each checklist for the exam."""
    from ppe_tech.checklist.results import list_runs, load_run

    if run_id is not None:
        run = load_run(conn, run_id).to_json()
        if exam_id is not None and run["exam_id"] != exam_id:
            raise ConfigError(
                _("checklist run {run} belongs to exam {found}, not {exam}").format(
                    run=run_id, found=run["exam_id"] or _("(none)"), exam=exam_id
                )
            )
        return [_run_data(run)]
    latest: dict[str, int] = {}
    for summary in list_runs(conn, exam_id=exam_id):
        latest[summary.checklist] = summary.run_id  # ordered by id: the last one wins
    return [_run_data(load_run(conn, found).to_json()) for found in latest.values()]


def _item_titles(site: Site) -> dict[str, dict[str, Any]]:
    """Item id -> {title, severity} from the checklist files as written (site's first), read
    without rendering their templates: a disabled item is named by its title, not its id."""
    import yaml

    from ppe_tech.resources import lookup_path

    found: dict[str, dict[str, Any]] = {}
    for folder in reversed(lookup_path(site.folder, "checklists")):  # the site's copy wins
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            try:
                doc = yaml.safe_load(path.read_text("utf-8")) or {}
            except (OSError, yaml.YAMLError, UnicodeDecodeError):
                continue
            for section in doc.get("sections") or [] if isinstance(doc, dict) else []:
                for item in (section or {}).get("items") or []:
                    if isinstance(item, dict) and "id" in item:
                        found[str(item["id"])] = item
    return found


def _title(item: dict[str, Any] | None, lang: str, fallback: str) -> str:
    title = (item or {}).get("title")
    if isinstance(title, dict):
        return str(title.get(lang) or title.get("ru") or fallback)
    return str(title) if title else fallback


def disabled_critical(site: Site, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items a run did not check because ppe.yaml disables them: "не проверялось", and why."""
    disabled = [item_id for run in runs for item_id in run["disabled_items"]]
    items = _item_titles(site) if disabled else {}
    out = []
    for item_id in dict.fromkeys(disabled):
        item = items.get(item_id)
        if (item or {}).get("severity", "critical") != "critical":
            continue
        out.append(
            {
                "id": item_id,
                "title_ru": _title(item, "ru", "пункт, отключённый на этом ППЭ"),
                "title_en": _title(item, "en", item_id),
                "severity": "critical",
                "reason_ru": "отключено на этом ППЭ в его настройках",
                "reason_en": "disabled at this point (checks.disabled in ppe.yaml)",
            }
        )
    return out


def failed_critical(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The critical items of the runs that did not pass (page one names them)."""
    return [
        {
            "id": item["id"],
            "title_ru": item["title_ru"],
            "title_en": item["title_en"],
            "status": item["status"],
        }
        for run in runs
        for section in run["sections"]
        for item in section["items"]
        if item["severity"] == "critical" and item["status"] != "pass"
    ]


def camera_run_of(runs: list[dict[str, Any]]) -> int | None:
    """The camera verification a checklist's ``cameras`` item made ("3/3 ok (run 7)")."""
    for run in runs:
        for section in run["sections"]:
            for item in section["items"]:
                found = re.search(r"\(run (\d+)\)", str(item.get("value") or ""))
                if item["kind"] == "cameras" and found:
                    return int(found.group(1))
    return None


def _snapshot_path(site: Site, value: Any) -> Path | None:
    if not value:
        return None
    path = Path(str(value))
    if not path.is_absolute():
        for base in (site.folder, site.snapshots_dir):
            if (base / path).is_file():
                return (base / path).resolve()
        return None
    return path if path.is_file() else None


def _place(site: Site, camera_id: str, stored: dict[str, Any]) -> tuple[str, str]:
    """(zone, room) of a camera from ppe.yaml, else as stored (a camera removed since)."""
    try:
        camera = site.camera(camera_id)
    except ConfigError:
        return str(stored.get("zone", "")), str(stored.get("room", ""))
    return camera.zone, camera.room


def _camera_rows(site: Site, verification: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for item in verification["cameras"]:
        zone, room = _place(site, item["id"], item)
        snapshot = _snapshot_path(site, item.get("snapshot"))
        rows.append(
            {
                "id": item["id"],
                "zone": zone,
                "room": room,
                "verdict": item["status"],
                "ok": item["status"] == "ok",
                "findings": [
                    {"code": f.get("code"), "message": f.get("message")} for f in item["findings"]
                ],
                "snapshot": str(snapshot) if snapshot else None,
                "snapshot_url": snapshot.as_uri() if snapshot else None,
            }
        )
    return rows


def camera_check(
    site: Site, conn: sqlite3.Connection, exam_id: str | None, run_id: int | None = None
) -> dict[str, Any] | None:
    """Camera verification ``run_id`` (the one the checklist made), else the latest of the exam;
    never another exam's. None when there is none."""
    from ppe_tech.cameras.results import latest_verification, load_run

    if run_id is not None:
        verification = load_run(conn, run_id, folder=site.folder).to_json()
    elif exam_id is not None:
        verification = latest_verification(conn, exam_id=exam_id, folder=site.folder)
    else:
        verification = None
    if not verification:
        return None
    verification = _jsonable(verification)
    return {
        "run_id": verification["run_id"],
        "exam_id": verification["exam_id"],
        "checked_at": verification["finished_at"] or verification["started_at"],
        "cameras": _camera_rows(site, verification),
        "raw": verification,
    }


def _missing(en: str, ru: str) -> dict[str, str]:
    return {"en": en, "ru": ru}


def _missing_parts(site: Site, exam: Exam | None, data: dict[str, Any]) -> list[dict[str, str]]:
    """What the protocol lacks, each with what to run (refused unless --allow-incomplete)."""
    if exam is None:
        return [_missing("no exam today: give --exam ID", "экзамен не выбран")]
    missing = []
    if not data["runs"]:
        missing.append(
            _missing(
                f"no checklist run for exam {exam.id}: run `ppe-tech check run` first",
                "проверочный лист по этому экзамену не выполнялся",
            )
        )
    expected = [c.id for c in site.config.cameras]
    cams = data["cameras"]
    seen = {c["id"] for c in cams["cameras"]} if cams else set()
    absent = [c for c in expected if c not in seen]
    if cams is None and expected:
        missing.append(
            _missing(
                f"no camera verification for exam {exam.id}: run "
                f"`ppe-tech cameras verify --exam {exam.id}`",
                "камеры по этому экзамену не проверялись",
            )
        )
    elif absent:
        missing.append(
            _missing(
                f"camera verification run {cams['run_id']} covers {len(expected) - len(absent)} "
                f"of {len(expected)} cameras (missing: {', '.join(absent)}): run "
                f"`ppe-tech cameras verify --exam {exam.id}`",
                f"проверено камер: {len(expected) - len(absent)} из {len(expected)}; "
                f"не проверены: {', '.join(absent)}",
            )
        )
    return missing


def readiness(
    site: Site, conn: sqlite3.Connection, exam: Exam | None, *, run_id: int | None = None
) -> dict[str, Any]:
    """The point's readiness protocol: the exam's checklist run(s), the camera run that
    checklist made (else the exam's latest), and what is missing."""
    exam_id = exam.id if exam else None
    runs = checklist_runs(conn, exam_id, run_id) if exam_id or run_id else []
    cameras = camera_check(site, conn, exam_id, camera_run_of(runs))
    data = {"runs": runs, "cameras": cameras}
    failed_cams = [c["id"] for c in (cameras or {}).get("cameras", []) if c["verdict"] == "fail"]
    data["summary"] = {
        "failed_critical": failed_critical(runs),
        "disabled_critical": disabled_critical(site, runs),
        "failed_cameras": failed_cams,
        "missing": _missing_parts(site, exam, data),
    }
    data["summary"]["ready"] = not (
        data["summary"]["failed_critical"] or failed_cams or data["summary"]["missing"]
    )
    return data


# -- archive act ----------------------------------------------------------------------------
def select_archive(
    conn: sqlite3.Connection,
    exam: Exam | None,
    *,
    archive_id: int | None = None,
    bag: str | None = None,
) -> dict[str, Any] | None:
    """The archive an act is about: ``archive_id``, else the bag at ``bag`` (one act per bag),
    else the exam's latest (the latest of all without an exam)."""
    from ppe_tech.recordings.results import archive_of_run, latest_archive, list_archives

    if archive_id is None and bag is None:
        return latest_archive(conn, exam_id=exam.id if exam else None)
    wanted = str(Path(bag).resolve()) if bag else None
    for item in list_archives(conn):
        stored = item["bag_path"] and str(Path(item["bag_path"]).resolve())
        if item["run_id"] == archive_id or (wanted and stored == wanted):
            return archive_of_run(conn, item["run_id"])
    if archive_id is not None:
        message = _("no archive {id} in this site's store (see: ppe-tech recordings list)")
    else:
        message = _("no bag {bag} in this site's store (see: ppe-tech recordings list)")
    raise ConfigError(message.format(id=archive_id, bag=bag))


def archive(
    site: Site,
    conn: sqlite3.Connection,
    exam: Exam | None,
    *,
    archive_id: int | None = None,
    bag: str | None = None,
) -> dict[str, Any] | None:
    """The archive an act is about, or None when the exam has none."""
    found = select_archive(conn, exam, archive_id=archive_id, bag=bag)
    if not found:
        return None
    raw = _jsonable(found)
    per_camera: dict[str, dict[str, int]] = {}
    for f in raw["files"]:
        agg = per_camera.setdefault(f["camera"], {"files": 0, "size": 0})
        agg["files"] += 1
        agg["size"] += f["size"]
    cameras = []
    for cam_id in raw["cameras"]:
        zone, room = _place(site, cam_id, {})
        agg = per_camera.get(cam_id, {"files": 0, "size": 0})
        cameras.append(
            {
                "id": cam_id,
                "zone": zone,
                "room": room,
                "files": agg["files"],
                "size": agg["size"],
                "size_text": format_size(agg["size"]),
            }
        )
    gaps = [
        {
            "camera": g["camera"],
            "start": g["start"],
            "end": g["end"],
            "length": f"{g['seconds']:.0f} s",
        }
        for g in raw["gaps"]
    ]
    return {
        "archive_id": raw["run_id"],
        "bag_name": Path(str(raw["bag_path"])).name,
        "medium": medium_of(Path(str(raw["bag_path"]))),
        "keep_until": keep_until(raw["window_start"]),
        "window_start": raw["window_start"],
        "window_end": raw["window_end"],
        "exam_id": raw["exam_id"],
        "archived_at": raw["created_at"],
        "location": site.redact(str(raw["bag_path"])),
        "files": raw["file_count"],
        "size": raw["total_bytes"],
        "size_text": format_size(raw["total_bytes"]),
        "manifest_hash": raw["manifest_sha256"],
        "cameras": cameras,
        "gaps": gaps,
        "undecodable": [
            {
                "camera": u.get("camera", ""),
                "path": u.get("path", ""),
                "reason": u.get("reason", ""),
            }
            for u in raw["undecodable"]
        ],
        "raw": raw,
    }


# -- access-log extract ---------------------------------------------------------------------
def _name_position(person: str | None) -> dict[str, str]:
    """ "Иванов И.И., технический специалист" -> {"name", "position"} (the form's two cells)."""
    name, _sep, position = (person or "").partition(", ")
    return {"name": name, "position": position}


def _journal_row(entry: dict[str, Any]) -> dict[str, Any]:
    columns = (
        "no",
        "date",
        "rooms",
        "start",
        "end",
        "action",
        "action_ru",
        "action_en",
        "note",
        "open",
        "end_seq",
        "hash",
    )
    row = {k: entry.get(k) for k in columns}
    row["performed"] = _name_position(entry.get("performed_by"))
    row["responsible"] = _name_position(entry.get("responsible"))
    row["performed_by"], row["responsible_text"] = (
        entry.get("performed_by"),
        entry.get("responsible"),
    )
    return row


def access_log(
    site: Site,
    conn: sqlite3.Connection,
    date_from: str | None = None,
    date_to: str | None = None,
) -> dict[str, Any] | None:
    """The journal extract as the official form has it: one row per action (a start and its
    end are one row), in the order the actions started, with counts that agree."""
    from ppe_tech.pak.journal import list_entries

    entries = list_entries(conn, date_from=date_from, date_to=date_to)
    rows = [_journal_row(e) for e in entries]
    rows.sort(key=lambda r: (r["date"] or "", r["start"] or "", r["no"]))
    for number, row in enumerate(rows, 1):
        row["row_no"] = number  # the form's running number; ``no`` stays the log entry's
    merged = sum(1 for r in rows if r["end_seq"])
    return {
        "date_from": date_from,
        "date_to": date_to,
        "entries": rows,
        "counts": {"rows": len(rows), "with_end": merged, "entries": len(rows) + merged},
        "audit": audit(site, conn),
    }


def audit(site: Site, conn: sqlite3.Connection) -> dict[str, Any]:
    """The PAK audit's findings (``ppe_tech.pak.audit.audit``)."""
    from ppe_tech.pak.audit import audit as run_audit

    result = _jsonable(run_audit(site, conn))
    findings = [
        {
            "entry": f.get("seq"),
            "severity": f["severity"],
            "code": f["code"],
            "message": f["message"],
        }
        for f in result
    ]
    return {"findings": findings, "raw": {"findings": result}}


# -- per-room protocols ППЭ-01-01 (auditorium) and ППЭ-01-02 (staff room) ------------------
ROLE_TITLES = {
    "print": ("станция печати ЭМ", "print station"),
    "scan": ("станция сканирования", "scanning station"),
    "authorisation": ("станция авторизации", "authorisation station"),
    "backup-print": ("резервная станция печати", "backup print station"),
    "backup-scan": ("резервная станция сканирования", "backup scanning station"),
    "backup-authorisation": ("резервная станция авторизации", "backup authorisation station"),
}


def _station_row(conn: sqlite3.Connection, state: Any) -> dict[str, Any]:
    """One station of a room: its state, how it was checked, and its items as the run saw them."""
    from ppe_tech.stations.results import load_station_run

    items: list[dict[str, Any]] = []
    if state.run_id is not None:
        run = load_station_run(conn, state.run_id)
        items = [
            {
                k: getattr(i, k)
                for k in (
                    "item_id",
                    "title_ru",
                    "title_en",
                    "severity",
                    "status",
                    "value",
                    "expected",
                    "answered_by",
                )
            }
            for i in run.items
        ]
    ru, en = ROLE_TITLES.get(state.role, (state.role, state.role))
    return {**_jsonable(state.to_json()), "role_ru": ru, "role_en": en, "items": items}


def room_protocol(site: Site, conn: sqlite3.Connection, exam: Exam, number: str) -> dict[str, Any]:
    """One room's protocol: its stations row by row, its cameras with snapshot and verdict,
    the room's verdict (``ppe_tech.stations.results.room_readiness``)."""
    from ppe_tech.stations.results import room_readiness

    rooms = {r.number: r for r in room_readiness(conn, site, exam)}
    if number not in rooms:
        known = ", ".join(rooms) or _("none (add rooms: to ppe.yaml)")
        raise ConfigError(
            _("no room {number!r} in ppe.yaml (rooms: {known})").format(number=number, known=known)
        )
    room = rooms[number]
    verification = camera_check(site, conn, exam.id)
    shown = {c["id"]: c for c in (verification or {}).get("cameras", [])}
    cameras = [
        shown.get(c.camera_id)
        or {
            "id": c.camera_id,
            "zone": "",
            "room": number,
            "verdict": "not-verified",
            "ok": False,
            "findings": [],
            "snapshot": None,
            "snapshot_url": None,
        }
        for c in room.cameras
    ]
    return {
        "number": room.number,
        "kind": room.kind,
        "name": room.name,
        "ready": room.ready,
        "reasons": list(room.reasons),
        "stations": [_station_row(conn, s) for s in room.stations],
        "cameras": cameras,
    }


def room_numbers(site: Site) -> list[str]:
    return [r.number for r in site.rooms]


def keep_until(window_start: str) -> str:
    """Recordings are kept until 1 March of the year after the exam (ISO date)."""
    year = datetime.fromisoformat(str(window_start).replace("Z", "+00:00")).year
    return f"{year + 1}-03-01"


def medium_of(bag: Path) -> dict[str, Any]:
    """The medium holding ``bag``: its mount point, label and serial where Linux shows them
    (/dev/disk/by-label, udev's ID_SERIAL); None where they cannot be read."""
    from ppe_tech.reports.medium import removable_medium

    return removable_medium(bag)


@dataclass(frozen=True)
class Selection:
    """What a report covers: the exam, and the runs that belong to it."""

    exam: Exam | None = None
    run_id: int | None = None  # readiness: the checklist run (default: the exam's latest)
    archive_id: int | None = None  # archive act: the archive (default: the exam's latest)
    bag: str | None = None  # archive act: the bag folder
    room: str | None = None  # room protocol: the room's number
    date_from: str | None = None  # access log
    date_to: str | None = None


def build(site: Site, conn: sqlite3.Connection, kind: str, sel: Selection) -> dict[str, Any]:
    """The kind-specific part of a report's data."""
    exam = sel.exam
    if kind in ("readiness", "act"):  # the act ППЭ-01 reads the same runs, said as the act
        return {"readiness": readiness(site, conn, exam, run_id=sel.run_id)}
    if kind == "archive":
        return {"archive": archive(site, conn, exam, archive_id=sel.archive_id, bag=sel.bag)}
    if kind == "room":
        if exam is None or sel.room is None:
            raise ConfigError(_("a room protocol needs --exam ID and --room NUMBER"))
        return {"room": room_protocol(site, conn, exam, sel.room)}
    if kind == "access-log":
        date_from, date_to = sel.date_from, sel.date_to
        if exam is not None and date_from is None and date_to is None:
            date_from = date_to = exam.date.isoformat()
        return {"access_log": access_log(site, conn, date_from, date_to)}
    raise ValueError(kind)


def missing_parts(kind: str, body: dict[str, Any]) -> list[dict[str, str]]:
    """What a report lacks ({"en": with the command that fills it in, "ru": for the page})."""
    if kind in ("readiness", "act"):
        return list(body["readiness"]["summary"]["missing"])
    if kind == "room":
        room = body["room"]
        unchecked = [s["station_id"] for s in room["stations"] if s["state"] == "not-checked"]
        unverified = [c["id"] for c in room["cameras"] if c["verdict"] == "not-verified"]
        parts = []
        if unchecked:
            parts.append(
                _missing(
                    f"stations never checked for this exam: {', '.join(unchecked)}: "
                    "run `ppe-tech station run` or `station confirm`",
                    f"не проверены станции: {', '.join(unchecked)}",
                )
            )
        if unverified:
            parts.append(
                _missing(
                    f"cameras not verified for this exam: {', '.join(unverified)}: "
                    "run `ppe-tech cameras verify`",
                    f"не проверены камеры: {', '.join(unverified)}",
                )
            )
        return parts
    if kind == "archive" and body["archive"] is None:
        return [
            _missing(
                "no archive of the exam: run `ppe-tech recordings archive` first",
                "видеозаписи экзамена не копировались",
            )
        ]
    return []


def clean(site: Site, data: dict[str, Any]) -> dict[str, Any]:
    """JSON-able, with every secret masked."""
    return _redacted(site, _jsonable(data))
