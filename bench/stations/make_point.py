"""A point of 20 auditorium rooms with two stations each (40 stations) and 40 signed result files.

Usage: make_point.py SITE STICK NTP_PORT
Writes the site (rooms, stations, cameras verified), enrolls STICK and writes one real
result file per station into STICK/results (the station checklist run in this process
with the station's identity, manual items confirmed), as 40 stations would leave them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from ppe_tech.checklist.answers import parse_confirm
from ppe_tech.checklist.runner import asked_by_hand
from ppe_tech.site import load_site
from ppe_tech.stations.resultfile import write_result
from ppe_tech.stations.run import StationRequest, run_station, station_checklist
from ppe_tech.stations.signing import enroll, load_signing_key

EXAM = "2026-05-28-math"


def config(folder: Path, ntp_port: int) -> dict:
    version = folder / "version.txt"
    version.write_text("26.1.4\n")
    rooms = [
        {"number": f"{n:04d}", "kind": "auditorium", "name": f"Auditorium {n:04d}"}
        for n in range(1, 21)
    ]
    stations = [
        {"id": f"{role}-{r['number']}", "role": role, "room": r["number"]}
        for r in rooms
        for role in ("print", "scan")
    ]
    cameras = [
        {"id": f"aud-{r['number']}", "zone": "auditorium", "room": r["number"], "source": "x.mp4"}
        for r in rooms
    ]
    return {
        "point": {"code": "0101", "name": "Bench point", "timezone": "Europe/Moscow"},
        "staff": {
            "technician": {"name": "T", "position": "t"},
            "head": {"name": "H", "position": "h"},
        },
        "exams": [
            {
                "id": EXAM,
                "subject": "Math",
                "date": "2026-05-28",
                "start": "10:00",
                "duration": "3h55m",
            }
        ],
        "rooms": rooms,
        "stations": stations,
        "cameras": cameras,
        "checks": {
            "vars": {
                "ntp_server": "127.0.0.1",
                "ntp_port": ntp_port,
                "station_version": ">=26.1",
                "station_version_file": str(version),
                "antivirus_process": "python",
                "antivirus_signatures": str(version),
                "min_free": "1M",
            },
            "disabled": ["printer-ready", "scanner-connected"],
        },
    }


def main(site_dir: Path, stick: Path, ntp_port: int) -> None:
    site_dir.mkdir(parents=True)
    (site_dir / "ppe.yaml").write_text(yaml.safe_dump(config(site_dir, ntp_port), sort_keys=False))
    site = load_site(site_dir)
    enrolment = enroll(site, site.exam(EXAM), stick)
    key = load_signing_key(site, enrolment.stick_site / "keys" / "station-signing.json")
    for station in site.config.stations:
        manual = [i.id for i in station_checklist(site, station).items if asked_by_hand(i)]
        request = StationRequest(
            station=station, exam=site.exam(EXAM), answers=parse_confirm(tuple(manual), "bench")
        )
        write_result(enrolment.results, run_station(site, request), key)
    print(f"{len(site.config.stations)} result files in {enrolment.results}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
