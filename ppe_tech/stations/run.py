"""A station check: the station's checklist run with its identity, on the station or by hand.

``run_station`` is what ``ppe-tech station run`` does on the station (probes run there,
manual items asked there); ``confirm_station`` is ``ppe-tech station confirm`` on the
technician's machine for a station that cannot run anything: every item is asked, and if the
station has a ``host`` the technician's machine checks it answers on the LAN. Both return a
``StationResult``; nothing is written on the station but the result file (see resultfile).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import platform as platform_module
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ppe_tech import __version__
from ppe_tech.checklist.model import Checklist, Item, load_checklist
from ppe_tech.checklist.probes import ProbeContext
from ppe_tech.checklist.probes.network import TcpSpec, tcp
from ppe_tech.checklist.runner import Answer, ItemResult, RunResult, run_checklist
from ppe_tech.site import Exam, Site, Station
from ppe_tech.stations.results import HOW_HAND, HOW_RUN, StationItem, StationResult
from ppe_tech.timeutil import iso

Ask = Callable[[Item], Answer | None]
REACH_TIMEOUT = 3.0  # seconds for the LAN check of a station's host


@dataclass(frozen=True)
class StationRequest:
    """What a station check needs besides the site: who, for which exam, answered how."""

    station: Station
    exam: Exam
    answers: dict[str, Answer]
    ask: Ask | None = None
    platform: str = sys.platform


def station_checklist(site: Site, station: Station) -> Checklist:
    """The station's checklist (by role, or its own ``checklist:``), rendered for it."""
    return load_checklist(station.checklist_name, site, station=station)


def checklist_digest(checklist: Checklist) -> str:
    """SHA-256 of the rendered checklist: the items as this station ran them."""
    items = [
        {
            "id": i.id,
            "title": i.title.model_dump(),
            "severity": i.severity,
            "probe": i.probe.model_dump(mode="json") if i.probe else None,
            "question": i.question.model_dump(),
            "timeout": i.timeout,
            "retries": i.retries,
        }
        for i in checklist.items
    ]
    text = json.dumps({"name": checklist.name, "items": items}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def machine_facts() -> dict[str, Any]:
    """Host name, OS and version, MAC addresses of the machine this runs on."""
    import psutil

    macs = sorted(
        {
            address.address.lower().replace("-", ":")
            for addresses in psutil.net_if_addrs().values()
            for address in addresses
            if address.family == psutil.AF_LINK and address.address not in ("", "00:00:00:00:00:00")
        }
    )
    return {
        "host_name": socket.gethostname(),
        "os": platform_module.system(),
        "os_version": platform_module.version(),
        "os_release": platform_module.release(),
        "macs": macs,
    }


def _item(result: ItemResult) -> StationItem:
    item = result.item
    return StationItem(
        item_id=item.id,
        section_id=item.section_id,
        title_ru=item.title.ru,
        title_en=item.title.en,
        severity=item.severity,
        kind=item.kind,
        status=result.status,
        value=result.value,
        expected=result.expected,
        message=result.message,
        duration_ms=result.duration_ms,
        attempts=result.attempts,
        answered_by=result.answered_by,
        comment=result.comment,
        finished_at=iso(result.finished_at),
    )


def _result(
    site: Site, request: StationRequest, run: RunResult, *, how: str, **extra: Any
) -> StationResult:
    status = "interrupted" if run.interrupted else ("passed" if run.passed else "failed")
    return StationResult(
        point_code=site.config.point.code,
        station_id=request.station.id,
        room=request.station.room,
        role=request.station.role,
        exam_id=request.exam.id,
        how=how,
        status=status,
        checklist=run.checklist.name,
        checklist_sha256=checklist_digest(run.checklist),
        ppe_tech_version=__version__,
        started_at=run.started_at,
        finished_at=run.finished_at,
        operator=run.operator,
        items=tuple(_item(r) for r in run.results),
        **extra,
    )


def run_station(site: Site, request: StationRequest) -> StationResult:
    """Run the station's checklist here, on the station."""
    checklist = station_checklist(site, request.station)
    run = run_checklist(
        checklist, site, request.exam, request.answers, ask=request.ask, platform=request.platform
    )
    return _result(site, request, run, how=HOW_RUN, machine=machine_facts())


def check_reachable(station: Station, timeout: float = REACH_TIMEOUT) -> dict[str, Any] | None:
    """Whether the station's ``host`` answers on its TCP ``port`` (None without a host)."""
    if not station.host:
        return None
    spec = TcpSpec(type="tcp", host=station.host, port=station.port)
    outcome = tcp(spec, ProbeContext(None, timeout))
    return {
        "host": station.host,
        "port": station.port,
        "reachable": outcome.status == "pass",
        "detail": outcome.message or outcome.value,
    }


def confirm_station(site: Site, request: StationRequest, *, by: str) -> StationResult:
    """A station checked by hand: every item asked (or answered), the LAN check if it has a host."""
    checklist = station_checklist(site, request.station)
    run = run_checklist(
        checklist, site, request.exam, request.answers, ask=request.ask, by_hand=True
    )
    return _result(
        site,
        request,
        run,
        how=HOW_HAND,
        confirmed_by=by,
        reachable=check_reachable(request.station),
        machine=None,
    )


def operator_name(site: Site) -> str:
    """``Ivanov I.I. (ivanov)``: the technician of ppe.yaml and the OS user."""
    return f"{site.config.staff['technician'].name} ({getpass.getuser()})"
