"""Context builders: what each report shows, read from the store (never written here).

Each builder returns plain JSON-able data; that data is both the template
context and the ``results.json`` embedded in the PDF. A job that has stored
nothing yet gives ``None``, which the templates show as "absent". Builders read
each job through its public read API, in the shapes those functions document.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ppe_tech.fsutil import format_size
from ppe_tech.timeutil import iso

if TYPE_CHECKING:
    from ppe_tech.site import Exam, Site

KINDS = ("readiness", "archive", "access-log")
FORMAT = "ppe-tech-report/1"
ROLES = ("technician", "head", "commission")


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
    if hasattr(value, "to_dict"):
        return _jsonable(value.to_dict())
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
    return {
        "point": config.point.model_dump(mode="json"),
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


def checklist_runs(conn: sqlite3.Connection, exam_id: str | None) -> list[dict[str, Any]]:
    """The latest run of each checklist for the exam (all runs' latest when no exam)."""
    from ppe_tech.checklist.results import list_runs, load_run

    latest: dict[str, dict[str, Any]] = {}
    for run in list_runs(conn, exam_id):
        latest[run["checklist"]] = run  # ordered by id: the last one wins
    runs = []
    for summary in latest.values():
        run = load_run(conn, summary["id"])
        runs.append(
            {
                "id": run["id"],
                "checklist": run["checklist"],
                "title_ru": run["title_ru"],
                "title_en": run["title_en"],
                "exam_id": run["exam_id"],
                "started_at": run["started_at"],
                "finished_at": run["finished_at"],
                "deadline": run["deadline"],
                "late_minutes": run["late_minutes"],
                "timeliness": run.get("timeliness"),
                "status": run["status"],
                "operator": run["operator"],
                "disabled_items": run["disabled_items"],
                "counts": run.get("counts", {}),
                "sections": _run_sections(run),
            }
        )
    return runs


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
    from ppe_tech.errors import ConfigError

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
                "findings": [f.get("message") or f["code"] for f in item["findings"]],
                "snapshot": str(snapshot) if snapshot else None,
                "snapshot_url": snapshot.as_uri() if snapshot else None,
            }
        )
    return rows


def camera_check(
    site: Site, conn: sqlite3.Connection, exam_id: str | None
) -> dict[str, Any] | None:
    """The latest camera verification of the exam (else the latest of all), or None."""
    from ppe_tech.cameras.results import latest_verification

    verification = latest_verification(conn, exam_id=exam_id, folder=site.folder)
    if verification is None and exam_id is not None:
        verification = latest_verification(conn, folder=site.folder)
    if not verification:
        return None
    verification = _jsonable(verification)
    return {
        "checked_at": verification["finished_at"] or verification["started_at"],
        "cameras": _camera_rows(site, verification),
        "raw": verification,
    }


def readiness(site: Site, conn: sqlite3.Connection, exam: Exam | None) -> dict[str, Any]:
    exam_id = exam.id if exam else None
    return {"runs": checklist_runs(conn, exam_id), "cameras": camera_check(site, conn, exam_id)}


# -- archive act ----------------------------------------------------------------------------
def archive(site: Site, conn: sqlite3.Connection, exam: Exam | None) -> dict[str, Any] | None:
    """The latest archive of the exam (``latest_archive``'s shape), or None."""
    from ppe_tech.recordings.results import latest_archive

    found = latest_archive(conn, exam_id=exam.id if exam else None)
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
        cameras.append({"id": cam_id, "zone": zone, "room": room, "files": agg["files"],
                        "size": agg["size"], "size_text": format_size(agg["size"])})  # fmt: skip
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
def access_log(
    site: Site,
    conn: sqlite3.Connection,
    date_from: str | None = None,
    date_to: str | None = None,
) -> dict[str, Any] | None:
    from ppe_tech.pak.journal import list_entries

    entries = list_entries(conn, date_from=date_from, date_to=date_to)
    columns = ("no", "date", "rooms", "start", "end", "action", "action_ru", "action_en",
               "performed_by", "responsible", "note", "open", "hash")  # fmt: skip
    rows = [{k: e.get(k) for k in columns} for e in entries]
    return {
        "date_from": date_from,
        "date_to": date_to,
        "entries": rows,
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


def build(
    site: Site,
    conn: sqlite3.Connection,
    kind: str,
    exam: Exam | None,
    *,
    date_from: str | None = None,
    date_to: str | None = None,
) -> dict[str, Any]:
    """The kind-specific part of a report's data."""
    if kind == "readiness":
        return {"readiness": readiness(site, conn, exam)}
    if kind == "archive":
        return {"archive": archive(site, conn, exam)}
    if kind == "access-log":
        if exam is not None and date_from is None and date_to is None:
            date_from = date_to = exam.date.isoformat()
        return {"access_log": access_log(site, conn, date_from, date_to)}
    raise ValueError(kind)


def clean(site: Site, data: dict[str, Any]) -> dict[str, Any]:
    """JSON-able, with every secret masked."""
    return _redacted(site, _jsonable(data))
