"""``region status``: per exam, what was handed over, when, its size, and whether the storage
still holds exactly that (every recorded object asked for its size and SHA-256)."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ppe_tech.region import results
from ppe_tech.region.s3 import Target, client, head, stored_sha256


@dataclass
class ExamStatus:
    exam_id: str
    last_status: str  # of the newest push: complete | refused | failed | interrupted | running
    handed_over_at: str | None  # when the newest complete push finished
    objects: int
    bytes: int
    locked_until: str | None
    checked: bool = False  # the storage was asked
    problems: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool | None:
        return not self.problems if self.checked else None

    def to_json(self) -> dict[str, Any]:
        return {
            "exam_id": self.exam_id,
            "last_status": self.last_status,
            "handed_over_at": self.handed_over_at,
            "objects": self.objects,
            "bytes": self.bytes,
            "locked_until": self.locked_until,
            "storage_agrees": self.agrees,
            "problems": self.problems,
        }


def _check_object(s3, target: Target, row: dict[str, Any]) -> str | None:
    meta = head(s3, target, row["key"])
    if meta is None:
        return f"{row['key']}: missing from the storage"
    if stored_sha256(meta) != row["sha256"] or meta.get("ContentLength") != row["size"]:
        return f"{row['key']}: the storage holds other bytes than were handed over"
    return None


def exam_statuses(
    conn: sqlite3.Connection, target: Target | None, exam_id: str | None = None, workers: int = 16
) -> list[ExamStatus]:
    """One ExamStatus per exam pushed at least once; the storage is asked when ``target``."""
    pushes = results.list_pushes(conn, exam_id)
    exams = list(dict.fromkeys(p["exam_id"] for p in pushes))
    s3 = client(target, pool=workers) if target else None
    out = []
    for exam in exams:
        mine = [p for p in pushes if p["exam_id"] == exam]
        complete = [p for p in mine if p["status"] == "complete"]
        objects = results.handed_over(conn, exam)
        status = ExamStatus(
            exam,
            mine[-1]["status"],
            complete[-1]["finished_at"] if complete else None,
            len(objects),
            sum(o["size"] for o in objects),
            complete[-1]["locked_until"] if complete else mine[-1]["locked_until"],
        )
        if s3 is not None and target is not None:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                found = pool.map(lambda row: _check_object(s3, target, row), objects)
                status.problems = [p for p in found if p]
            status.checked = True
        out.append(status)
    return out
