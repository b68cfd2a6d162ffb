"""Context builders: what each report shows, read from the store (never written here).

Each builder returns plain JSON-able data; that data is both the template
context and the ``results.json`` embedded in the PDF. Jobs that have not landed
(their module is missing) or have stored nothing yet give ``None``, which the
templates show as "absent".
"""

from __future__ import annotations

import importlib
import sqlite3
from collections.abc import Callable
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


def optional(module: str, attribute: str) -> Callable | None:
    """A function of another job's module, or None when that job has not landed."""
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError):
        return None


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


def _first(mapping: dict, *names: str, default: Any = None) -> Any:
    for name in names:
        if name in mapping and mapping[name] is not None:
            return mapping[name]
    return default


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
    list_runs = optional("ppe_tech.checklist.results", "list_runs")
    load_run = optional("ppe_tech.checklist.results", "load_run")
    if list_runs is None or load_run is None:
        return []
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
    items = _first(verification, "cameras", "results", "verdicts", default=[])
    if isinstance(items, dict):
        items = [
            {"id": k, **(v if isinstance(v, dict) else {"verdict": v})} for k, v in items.items()
        ]
    rows = []
    for item in items:
        if not isinstance(item, dict):
            continue
        cam_id = str(_first(item, "camera_id", "camera", "id", default="?"))
        zone, room = _place(site, cam_id, item)
        verdict = _first(item, "verdict", "status", "result", default="")
        ok = _first(item, "ok", "passed", default=None)
        if ok is None:
            ok = str(verdict).lower() in ("ok", "pass", "passed", "good")
        findings = _first(item, "findings", "problems", "issues", "reasons", default=[])
        if isinstance(findings, str):
            findings = [findings] if findings else []
        findings = [
            str(_first(f, "message", "text", "code", default=f)) if isinstance(f, dict) else str(f)
            for f in findings
        ]
        snapshot = _snapshot_path(site, _first(item, "snapshot", "snapshot_path", "image"))
        rows.append(
            {
                "id": cam_id,
                "zone": zone,
                "room": room,
                "verdict": str(verdict),
                "ok": bool(ok),
                "findings": findings,
                "snapshot": str(snapshot) if snapshot else None,
                "snapshot_url": snapshot.as_uri() if snapshot else None,
            }
        )
    return rows


def camera_check(
    site: Site, conn: sqlite3.Connection, exam_id: str | None
) -> dict[str, Any] | None:
    latest = optional("ppe_tech.cameras.results", "latest_verification")
    if latest is None:
        return None
    try:
        verification = latest(conn, exam_id=exam_id)
    except sqlite3.Error:
        return None
    if verification is None and exam_id is not None:
        verification = latest(conn)
    if not verification:
        return None
    verification = _jsonable(verification)
    return {
        "checked_at": _first(verification, "finished_at", "checked_at", "started_at", "created_at"),
        "cameras": _camera_rows(site, verification),
        "raw": verification,
    }


def readiness(site: Site, conn: sqlite3.Connection, exam: Exam | None) -> dict[str, Any]:
    exam_id = exam.id if exam else None
    return {"runs": checklist_runs(conn, exam_id), "cameras": camera_check(site, conn, exam_id)}


# -- archive act ----------------------------------------------------------------------------
def _size_of(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def archive(site: Site, conn: sqlite3.Connection, exam: Exam | None) -> dict[str, Any] | None:
    latest = optional("ppe_tech.recordings.results", "latest_archive")
    if latest is None:
        return None
    exam_id = exam.id if exam else None
    try:
        found = latest(conn, exam_id=exam_id)
    except sqlite3.Error:
        return None
    if not found:
        return None
    raw = _jsonable(found)
    size = _size_of(_first(raw, "total_bytes", "size", "total_size", "bytes", "size_bytes"))
    files_list = raw.get("files") if isinstance(raw.get("files"), list) else []
    per_camera: dict[str, dict[str, int]] = {}
    for f in files_list:
        if isinstance(f, dict):
            agg = per_camera.setdefault(str(f.get("camera", "?")), {"files": 0, "size": 0})
            agg["files"] += 1
            agg["size"] += _size_of(f.get("size")) or 0
    cameras = []
    for cam in _first(raw, "cameras", default=[]) or list(per_camera):
        if isinstance(cam, str):
            cam = {"id": cam}
        cam_id = str(_first(cam, "id", "camera", "camera_id", default="?"))
        zone, room = _place(site, cam_id, cam)
        agg = per_camera.get(cam_id, {})
        cam_size = _size_of(_first(cam, "size", "bytes", "size_bytes", default=agg.get("size")))
        cameras.append(
            {
                "id": cam_id,
                "zone": zone,
                "room": room,
                "files": _first(
                    cam, "files", "file_count", "segments", default=agg.get("files", 0)
                ),
                "size": cam_size,
                "size_text": format_size(cam_size) if cam_size is not None else "",
            }
        )
    gaps = []
    for gap in _first(raw, "gaps", default=[]) or []:
        start, end = _first(gap, "start", "from", "start_at"), _first(gap, "end", "to", "end_at")
        length = _first(gap, "length", "duration", "seconds", default="")
        if isinstance(length, int | float):
            length = f"{length:.0f} s"
        gaps.append({"camera": _first(gap, "camera", "camera_id", default=""), "start": start,
                     "end": end, "length": str(length)})  # fmt: skip
    verified = _first(raw, "verified", "valid", "ok", default=None)
    files = _first(raw, "file_count", default=None)
    if files is None:
        files = len(files_list)
    return {
        "window_start": _first(raw, "window_start", "start", "from"),
        "window_end": _first(raw, "window_end", "end", "to"),
        "exam_id": raw.get("exam_id"),
        "archived_at": _first(raw, "finished_at", "created_at", "archived_at"),
        "location": site.redact(
            str(_first(raw, "bag", "bag_path", "location", "target", default=""))
        ),
        "files": files,
        "size": size,
        "size_text": format_size(size) if size is not None else "",
        "manifest_hash": _first(
            raw, "manifest_sha256", "manifest_hash", "manifest_digest", default=""
        ),
        "verified": verified if isinstance(verified, bool) else None,
        "verified_text": str(_first(raw, "verify_message", "verification", default=verified)),
        "cameras": cameras,
        "gaps": gaps,
        "undecodable": [
            {
                "camera": u.get("camera", ""),
                "path": u.get("path", ""),
                "reason": u.get("reason", ""),
            }
            for u in raw.get("undecodable") or []
            if isinstance(u, dict)
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
    list_entries = optional("ppe_tech.pak.journal", "list_entries")
    if list_entries is None:
        return None
    try:
        entries = list_entries(conn, date_from=date_from, date_to=date_to)
    except sqlite3.Error:
        return None
    columns = ("no", "date", "rooms", "start", "end", "action", "action_ru", "action_en",
               "performed_by", "responsible", "note", "open", "hash")  # fmt: skip
    rows = [{k: e.get(k) for k in columns} for e in entries]
    return {
        "date_from": date_from,
        "date_to": date_to,
        "entries": rows,
        "audit": audit(site, conn),
    }


def audit(site: Site, conn: sqlite3.Connection) -> dict[str, Any] | None:
    run_audit = optional("ppe_tech.pak.audit", "audit")
    if run_audit is None:
        return None
    result = _jsonable(run_audit(site, conn))
    if isinstance(result, list):
        result = {"findings": result}
    findings = []
    for f in _first(result, "findings", default=[]) or []:
        if not isinstance(f, dict):
            f = {"message": str(f)}
        findings.append(
            {
                "entry": _first(f, "seq", "entry", "no", default=None),
                "severity": _first(f, "severity", "level", default="warning"),
                "code": _first(f, "rule", "code", default=""),
                "message": str(_first(f, "message", "text", default="")),
            }
        )
    return {"findings": findings, "raw": result}


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
