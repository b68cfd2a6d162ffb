"""Station results built directly (the library's own types), for readiness tests."""

from __future__ import annotations

from datetime import datetime

from ppe_tech.stations.results import HOW_RUN, StationItem, StationResult


def item(item_id: str, status: str = "pass", severity: str = "critical") -> StationItem:
    return StationItem(
        item_id=item_id,
        section_id="station",
        title_ru=item_id,
        title_en=item_id,
        severity=severity,
        kind="manual",
        status=status,
        value=None,
        expected=None,
        message="",
        duration_ms=1,
        attempts=1,
        answered_by=None,
        comment=None,
        finished_at="2026-05-28T04:00:00+00:00",
    )


def result(
    station: str,
    room: str,
    role: str,
    *,
    exam: str = "2026-05-28-math",
    at: str = "2026-05-28T04:00:00+00:00",
    how: str = HOW_RUN,
    items: tuple[StationItem, ...] = (),
    status: str | None = None,
) -> StationResult:
    items = items or (item("station-clock"),)
    passed = all(i.status == "pass" for i in items if i.severity == "critical")
    return StationResult(
        point_code="0101",
        station_id=station,
        room=room,
        role=role,
        exam_id=exam,
        how=how,
        status=status or ("passed" if passed else "failed"),
        checklist="station-print",
        checklist_sha256="0" * 64,
        ppe_tech_version="0.1.0",
        started_at=datetime.fromisoformat(at),
        finished_at=datetime.fromisoformat(at),
        operator="tech",
        items=items,
    )
