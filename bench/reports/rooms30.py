"""30 auditorium protocols ППЭ-01-01, two camera snapshots each, rendered and signed
(goal: under 10 s in all on two cores, peak memory under 600 MB).

    /usr/bin/time -v python bench/reports/rooms30.py

Makes a site in a temporary folder (keys; 30 auditoriums with 2 cameras each; a camera
verification of the 60 cameras with 768x576 JPEG snapshots cut from the shipped walkway
clip), then times ``make_reports(..., "room", rooms=[all 30])``, what ``ppe-tech report room
--room all`` does: store read, Jinja2 and WeasyPrint PDF/A-3b in worker processes (2 on 2
cores), pyHanko signature, write and register in this process, one PDF per room.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
ROOMS = 30


def _site():
    from ppe_tech.keys import init_keys
    from ppe_tech.site import load_site
    from ppe_tech.store import connect
    from tests.conftest import write_site
    from tests.reports.conftest import PASSPHRASE, russian_config, snapshot_jpegs

    cameras = [
        {"id": f"aud-{n:04d}-{s}", "zone": "auditorium", "room": f"{n:04d}", "source": "cam.mp4"}
        for n in range(1, ROOMS + 1)
        for s in "ab"
    ]
    config = russian_config(cameras=cameras)
    config["rooms"] = [{"number": f"{n:04d}"} for n in range(1, ROOMS + 1)]
    os.environ["PPE_KEY_PASSPHRASE"] = PASSPHRASE
    folder = write_site(Path(tempfile.mkdtemp(prefix="ppe-bench-")) / "site", config)
    site = load_site(folder)
    init_keys(site, PASSPHRASE.encode())
    conn = connect(site.db_path)
    site.snapshots_dir.mkdir(exist_ok=True)
    run = conn.execute(
        "INSERT INTO camera_runs (started_at, finished_at, exam_id, sample_s, selection, status)"
        " VALUES ('2026-05-28T04:45:00Z', '2026-05-28T04:46:10Z', '2026-05-28-math', 3, 'all', 'ok')"
    ).lastrowid
    for cam, jpeg in zip(cameras, snapshot_jpegs(len(cameras)), strict=True):
        rel = f"snapshots/{cam['id']}.jpg"
        (folder / rel).write_bytes(jpeg)
        conn.execute(
            "INSERT INTO camera_results (run_id, camera_id, zone, room, source, status, findings,"
            " metrics, snapshot, duration_ms) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                run,
                cam["id"],
                "auditorium",
                cam["room"],
                "cam.mp4",
                "ok",
                "[]",
                json.dumps({}),
                rel,
                2000,
            ),
        )
    return site, conn


def main() -> None:
    from log_extract import TreeMemory

    from ppe_tech.reports.core import make_reports
    from tests.reports.conftest import EXAM

    site, conn = _site()
    rooms = [f"{n:04d}" for n in range(1, ROOMS + 1)]
    tree = TreeMemory()
    started = time.perf_counter()
    rows = make_reports(site, conn, "room", EXAM, rooms=rooms, allow_incomplete=True)
    took = time.perf_counter() - started
    tree.stop()
    size = sum(Path(row["file"]).stat().st_size for row in rows)
    print(
        f"{len(rows)} room protocols (ППЭ-01-01), 2 snapshots each, rendered + signed: "
        f"{took:.2f} s ({took / ROOMS:.2f} s each, {size // 1024} KiB in all); CPU of the "
        f"process and its workers {tree.cpu:.1f} s ({tree.cpu / ROOMS:.2f} s each); peak RSS "
        f"of the process tree {tree.peak / 2**20:.0f} MiB"
    )


if __name__ == "__main__":
    main()
