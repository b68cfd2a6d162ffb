"""Demo step: the point's seven stations checked the ways a technician checks them.

The demo site's stick (``stick/``) is enrolled for today's exam. ``print-0001`` and
``print-0002`` are checked by the real ``ppe-tech station run``, each in its own process
with its own identity (the demo machine stands in for both stations); ``scan-0001``,
``auth-main`` and ``print-backup`` by the same run in this process. Their result files are
imported from the stick. ``auth-backup`` is confirmed by hand (its host is the portal
stand-in, so the LAN check answers); ``print-0003`` is never checked, so the point is not
ready and the summary names it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from ppe_tech.checklist.answers import parse_confirm
from ppe_tech.checklist.runner import asked_by_hand
from ppe_tech.i18n import _
from ppe_tech.stations.resultfile import import_folder, write_result
from ppe_tech.stations.results import point_readiness, save_station_run
from ppe_tech.stations.run import (
    StationRequest,
    confirm_station,
    run_station,
    station_checklist,
)
from ppe_tech.stations.signing import enroll, load_signing_key

IN_PROCESSES = ("print-0001", "print-0002")  # real `ppe-tech station run`, one process each
IN_THIS_PROCESS = ("scan-0001", "auth-main", "print-backup")
BY_HAND = "auth-backup"
STATION_RUN_TIMEOUT = 120  # seconds; a run ends within its slowest item's timeout


def _manual_ids(site, station, *, by_hand: bool = False) -> list[str]:
    checklist = station_checklist(site, station)
    return [i.id for i in checklist.items if asked_by_hand(i, by_hand=by_hand)]


def _run_in_process(stick_site, station_id: str, results) -> None:
    """``station run`` in its own Python process, as the technician starts it on a station."""
    from ppe_tech.site import load_site

    stick = load_site(stick_site)
    confirms = [a for i in _manual_ids(stick, stick.station(station_id)) for a in ("--confirm", i)]
    argv = [sys.executable, "-m", "ppe_tech", "--site", str(stick_site), "station", "run"]
    argv += ["--station", station_id, "--out", str(results), "--no-input", *confirms]
    env = {k: v for k, v in os.environ.items() if k != "PPE_SITE"}
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=STATION_RUN_TIMEOUT, env=env
    )
    if done.returncode not in (0, 1):  # 1: the station failed an item, still a result file
        raise RuntimeError(f"station run {station_id}: {done.stderr.strip()[-300:]}")


def run(demo: Any) -> str:
    site, exam = demo.site, demo.site.exam(demo.exam_id)
    by = f"{site.config.staff['technician'].name} (demo)"
    enrolment = enroll(site, exam, demo.folder / "stick")
    for station_id in IN_PROCESSES:
        _run_in_process(enrolment.stick_site, station_id, enrolment.results)
    key = load_signing_key(site, enrolment.stick_site / "keys" / "station-signing.json")
    for station_id in IN_THIS_PROCESS:
        station = site.station(station_id)
        answers = parse_confirm(tuple(_manual_ids(site, station)), by)
        result = run_station(site, StationRequest(station=station, exam=exam, answers=answers))
        write_result(enrolment.results, result, key)
    report = import_folder(site, demo.db, enrolment.results, exam_id=exam.id)
    station = site.station(BY_HAND)
    answers = parse_confirm(tuple(_manual_ids(site, station, by_hand=True)), by)
    request = StationRequest(station=station, exam=exam, answers=answers)
    save_station_run(demo.db, confirm_station(site, request, by=by))
    readiness = point_readiness(demo.db, site, exam)
    return _(
        "{n} result files imported from {folder}/ ({refused} refused), {station} confirmed by "
        "hand; {readiness}"
    ).format(
        n=len(report.imported),
        folder=enrolment.results.name,
        refused=len(report.refused),
        station=BY_HAND,
        readiness=readiness.summary_text(),
    )
