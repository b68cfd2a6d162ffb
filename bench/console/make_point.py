"""A big point for the console benchmark: 64 cameras, 40 stations, 4 hours of recordings.

    .venv/bin/python bench/console/make_point.py DIR

32 auditoriums (two cameras each) and a staff room; a print station per auditorium, a scan
station in 4 of them, 4 stations in the staff room. Every camera plays the shipped walkway
clip and is verified once for real (``run_verification``, 1 s sample), so the grid has 64
stored snapshots. Recordings: 10-minute segments of every camera over the last 4 hours
(hard links of one real MP4, as the demo does), indexed once.
"""

from __future__ import annotations

import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

ROOMS = 32
CLIP = Path(__file__).resolve().parents[2] / "ppe_tech" / "demo_data" / "walkway.mp4"


def config(now: datetime) -> dict:
    start = (now + timedelta(hours=1)).astimezone().replace(second=0, microsecond=0)
    rooms = [
        {"number": f"{n:04d}", "kind": "auditorium", "name": f"Auditorium {n:04d}"}
        for n in range(1, ROOMS + 1)
    ]
    rooms.append({"number": "7777", "kind": "staff-room", "name": "Staff room"})
    cameras = [
        {
            "id": f"aud-{n:04d}-{side}",
            "zone": "auditorium",
            "room": f"{n:04d}",
            "source": "clip.mp4",
        }
        for n in range(1, ROOMS + 1)
        for side in "ab"
    ]
    stations = [
        {"id": f"print-{n:04d}", "role": "print", "room": f"{n:04d}"} for n in range(1, ROOMS + 1)
    ]
    stations += [{"id": f"scan-{n:04d}", "role": "scan", "room": f"{n:04d}"} for n in range(1, 5)]
    stations += [
        {"id": f"staff-{role}", "role": role, "room": "7777"}
        for role in ("authorisation", "backup-authorisation", "scan", "backup-print")
    ]
    return {
        "point": {
            "code": "7702",
            "name": "Bench point",
            "region": "77",
            "timezone": "Europe/Moscow",
            "language": "ru",
        },
        "staff": {
            "technician": {"name": "Ivanov I.I.", "position": "technical specialist"},
            "head": {"name": "Petrov A.A.", "position": "head of the exam point"},
        },
        "exams": [
            {
                "id": f"{start:%Y-%m-%d}-math",
                "subject": "Mathematics",
                "date": start.date().isoformat(),
                "start": f"{start:%H:%M}",
                "duration": "3h55m",
            }
        ],
        "rooms": rooms,
        "stations": stations,
        "cameras": cameras[:63]
        + [{"id": "staff-room", "zone": "staff-room", "room": "7777", "source": "clip.mp4"}],
        "recordings": {"root": "recordings/"},
    }


def recordings(site, now: datetime) -> int:
    from ppe_tech.recordings.demo import SEGMENT, _place, encode_segment
    from ppe_tech.recordings.layout import compile_layout

    root = site.path(site.config.recordings.root)
    master = encode_segment(root / ".bench" / "segment.mp4")
    layout = compile_layout(site.config.recordings.layout)
    first = (now - timedelta(hours=4)).replace(minute=0, second=0, microsecond=0)
    count = 0
    for cam in site.config.cameras:
        moment = first
        while moment + SEGMENT < now:
            _place(master, root / layout.path_for(cam.id, moment, UTC))
            moment += SEGMENT
            count += 1
    return count


def main(folder: Path) -> None:
    from ppe_tech.cameras.verify import run_verification
    from ppe_tech.keys import init_keys
    from ppe_tech.recordings.index import index_site
    from ppe_tech.site import load_site
    from ppe_tech.store import connect
    from ppe_tech.timeutil import utc_now

    now = utc_now()
    folder.mkdir(parents=True)
    (folder / "ppe.yaml").write_text(
        yaml.safe_dump(config(now), allow_unicode=True, sort_keys=False)
    )
    shutil.copyfile(CLIP, folder / "clip.mp4")
    site = load_site(folder)
    init_keys(site, passphrase=b"bench")
    conn = connect(site.db_path)
    run = run_verification(site, conn, sample=1.0)
    segments = recordings(site, now)
    index_site(site, conn, now=now)
    print(
        f"{folder}: {len(site.config.cameras)} cameras (run {run['run_id']}: {run['counts']}), "
        f"{len(site.config.stations)} stations, {segments} segments"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
