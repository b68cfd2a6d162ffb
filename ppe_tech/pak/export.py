"""Export the journal as CSV (the paper journal's columns) or JSON (every field)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from typing import TYPE_CHECKING, Any

from ppe_tech.pak.checkpoint import latest_checkpoint
from ppe_tech.pak.journal import list_entries
from ppe_tech.pak.results import log_id
from ppe_tech.timeutil import iso, utc_now

if TYPE_CHECKING:
    from ppe_tech.site import Site

# (key, Russian header, English header)
CSV_COLUMNS = (
    ("no", "№", "No."),
    ("date", "Дата", "Date"),
    ("rooms", "Помещение", "Room(s)"),
    ("start", "Время начала", "Start"),
    ("end", "Время окончания", "End"),
    ("action", "Действие", "Action"),
    ("performed_by", "Кто выполнил (ФИО, должность)", "Performed by (name, position)"),
    ("responsible", "Ответственный (ФИО, должность)", "Responsible (name, position)"),
    ("note", "Примечание", "Note"),
    ("recorded_at", "Записано (UTC)", "Recorded (UTC)"),
    ("os_user", "Пользователь ОС", "OS user"),
    ("hash", "Хеш записи", "Entry hash"),
)


def to_csv(rows: list[dict[str, Any]], lang: str = "ru") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([ru if lang == "ru" else en for _, ru, en in CSV_COLUMNS])
    for row in rows:
        values = []
        for key, _, _ in CSV_COLUMNS:
            if key == "action":
                value = row["action_ru"] if lang == "ru" else row["action_en"]
            else:
                value = row[key]
            values.append(spreadsheet_safe("" if value is None else value))
        writer.writerow(values)
    return out.getvalue()


def spreadsheet_safe(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection): a text starting
    with = + - @, tab or carriage return gets a leading apostrophe. Numbers stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_json(site: Site, conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> str:
    point = site.config.point
    checkpoint = latest_checkpoint(conn)
    data = {
        "log_id": log_id(conn),
        "point": {
            "code": point.code,
            "name": point.name,
            "address": point.address,
            "region": point.region,
            "timezone": point.timezone,
        },
        "exported_at": iso(utc_now()),
        "latest_checkpoint": checkpoint.to_json() if checkpoint else None,
        "entries": rows,
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def export(site: Site, conn: sqlite3.Connection, fmt: str, lang: str = "ru", **filters: Any) -> str:
    rows = list_entries(conn, **filters)
    return to_csv(rows, lang) if fmt == "csv" else to_json(site, conn, rows)
