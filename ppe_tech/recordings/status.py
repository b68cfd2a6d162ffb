"""``recordings status``: per camera the newest segment's age, coverage of the exam window, gaps."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from ppe_tech.i18n import _, ngettext
from ppe_tech.recordings.index import (
    Index,
    coverage,
    find_gaps,
    free_space,
    index_site,
    newest_activity,
)
from ppe_tech.timeutil import human_duration, iso, utc_now


def recording_status(
    site,
    conn: sqlite3.Connection | None,
    exam_id: str | None = None,
    now: datetime | None = None,
    index: Index | None = None,
) -> dict:
    """Status of every configured camera (and any other camera found under the root).

    ``problems`` lists, one line each, what needs the technician: a configured camera with
    no fresh segment while the exam runs, gaps in the exam window so far, low disk space.
    """
    now = now or utc_now()
    rec = site.config.recordings
    index = index or index_site(site, conn, now=now)
    exam = site.exam(exam_id) if exam_id else site.exam_recorded(now)
    if not exam_id and exam is not None and exam.date != now.astimezone(site.tz).date():
        exam = None  # no exam today: nothing is expected of any camera
    window = None
    running = False
    if exam is not None:
        start = exam.start_at(site.tz).astimezone(UTC)
        end = exam.end_at(site.tz).astimezone(UTC)
        window = (start, min(end, now)) if start < now else None
        running = start <= now <= end
    configured = {c.id: c for c in site.config.cameras}
    cameras = list(configured) + [c for c in index.cameras() if c not in configured]
    tolerance = rec.gap_tolerance.total_seconds()
    stall = rec.stall.total_seconds()
    rows = []
    for cam in cameras:
        segs = index.of(cam)
        readable = [s for s in segs if s.ok]
        last = newest_activity(index, cam)
        age = (now - last).total_seconds() if last else None
        row = {
            "camera": cam,
            "zone": configured[cam].zone if cam in configured else None,
            "configured": cam in configured,
            "segments": len(readable),
            "unreadable": len(segs) - len(readable),
            "pending": sum(1 for s in index.pending if s.camera == cam),
            "first_start": iso(readable[0].start) if readable else None,
            "newest_end": iso(last) if last else None,
            "age_seconds": round(max(age, 0.0), 1) if age is not None else None,
            "live": age is not None and age <= stall,
            "coverage": None,
            "gaps": [],
        }
        if window is not None:
            row["coverage"] = round(coverage(segs, *window), 4)
            row["gaps"] = [g.as_dict() for g in find_gaps(cam, segs, *window, tolerance)]
        rows.append(row)
    free = free_space(index.root)
    low_space = free is not None and free < rec.min_free
    return {
        "root": str(index.root),
        "layout": rec.layout,
        "now": iso(now),
        "exam": None
        if exam is None
        else {
            "id": exam.id,
            "start": iso(exam.start_at(site.tz)),
            "end": iso(exam.end_at(site.tz)),
            "window": None if window is None else [iso(window[0]), iso(window[1])],
        },
        "stall_seconds": stall,
        "free_bytes": free,
        "min_free_bytes": rec.min_free,
        "low_space": low_space,
        "ignored_files": index.ignored,
        "cameras": rows,
        "problems": _problems(rows, running, low_space),
    }


def _problems(rows: list[dict], running: bool, low_space: bool) -> list[str]:
    """One line per thing that needs the technician (``recordings status`` exits 1 on any)."""
    problems = []
    for row in rows:
        cam, age = row["camera"], row["age_seconds"]
        if running and row["configured"] and not row["live"]:
            if age is None:
                text = _("{camera}: no segment at all while the exam runs")
            else:
                text = _("{camera}: no new segment for {duration} while the exam runs")
            problems.append(text.format(camera=cam, duration=human_duration(age or 0)))
        if row["gaps"]:
            seconds = sum(g["seconds"] for g in row["gaps"])
            gaps = ngettext(
                "{camera}: {n} gap in the exam window, {duration} in all",
                "{camera}: {n} gaps in the exam window, {duration} in all",
                len(row["gaps"]),
            )
            problems.append(
                gaps.format(camera=cam, n=len(row["gaps"]), duration=human_duration(seconds))
            )
    if low_space:
        problems.append(_("recording disk: free space under the alert threshold"))
    return problems
