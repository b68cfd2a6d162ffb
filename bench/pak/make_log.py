"""Make a site whose PAK log holds N entries (default 1,000,000), fast, through the library.

The entries go through ``ppe_tech.pak.journal.append_entries`` (the journal's own
batch append path: the same canonical bytes and hash chain as single appends,
the same triggers) in batches of 100,000 entries per transaction. Entries are
realistic: eight actions, 30 rooms, three staff members and a guest, one entry
every 3 minutes, some spanning start/end pairs, recorded a minute after they end.

    .venv/bin/python bench/pak/make_log.py /tmp/pak-bench 1000000
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from ppe_tech.keys import init_keys  # noqa: E402
from ppe_tech.pak.journal import ACTIONS, append_entries, utc_stamp  # noqa: E402
from ppe_tech.site import load_site  # noqa: E402
from ppe_tech.store import connect  # noqa: E402

PASSPHRASE = "bench"


def site_config() -> dict:
    start = datetime(2024, 1, 1)
    exams = [
        {
            "id": f"{start + timedelta(days=d):%Y-%m-%d}-exam",
            "subject": "Exam",
            "date": (start + timedelta(days=d)).date().isoformat(),
            "start": "10:00",
            "duration": "3h55m",
        }
        for d in range(0, 5 * 365, 7)
    ]
    cameras = [
        {
            "id": f"aud-{i:04d}",
            "zone": "auditorium",
            "room": f"Auditorium {i:04d}",
            "source": "x.mp4",
        }
        for i in range(1, 21)
    ]
    return {
        "point": {
            "code": "7701",
            "name": "Bench school",
            "timezone": "Europe/Moscow",
            "language": "ru",
        },
        "staff": {
            "technician": {"name": "Иванов И.И.", "position": "технический специалист"},
            "head": {"name": "Петров А.А.", "position": "руководитель ППЭ"},
            "commission": {"name": "Сидорова С.С.", "position": "член ГЭК"},
        },
        "exams": exams,
        "cameras": cameras,
    }


def entries(site, n: int):
    tz = site.tz
    rooms = [f"Auditorium {i:04d}" for i in range(1, 21)] + ["Staff room", "Entrance"]
    rooms += [f"Corridor {i}" for i in range(1, 9)]
    people = [
        ("Иванов И.И.", "технический специалист", "technician"),
        ("Сидорова С.С.", "член ГЭК", "commission"),
        ("Смирнов В.В.", "инженер", None),
    ]
    head = ("Петров А.А.", "руководитель ППЭ", "head")
    quiet = ["performance_check", "recording_start", "export", "recording_off", "other"]
    t0 = datetime(2024, 1, 1, 0, 0, tzinfo=tz)
    open_start = None
    for i in range(n):
        start = t0 + timedelta(minutes=3 * i)
        end = start + timedelta(minutes=1)
        action = quiet[i % len(quiet)]
        if i % 97 == 0:
            action = list(ACTIONS)[2 + i % 3]  # angle adjustment, card removal or installation
        if start.weekday() == 0 and action not in ("performance_check", "export"):
            action = "performance_check"  # exam days (Mondays) are quiet, but for some checks
        if i % 20_011 == 0:
            action = "card_removal"  # a suspicious entry now and then, during an exam or not
        name, position, role = people[i % 2] if i % 500 else people[2]  # a guest now and then
        common = {
            "action": action,
            "rooms": rooms[i % len(rooms)],
            "performed_name": name,
            "performed_position": position,
            "performed_role": role,
            "responsible_name": head[0],
            "responsible_position": head[1],
            "responsible_role": head[2],
            "note": f"запись {i}" if action == "other" else "",
            "os_user": "technician",
        }
        if open_start is not None:
            seq_of_start, start_common, started = open_start
            yield {
                **start_common,
                "kind": "end",
                "start_at": started.isoformat(),
                "end_at": start.isoformat(),
                "end_of": seq_of_start,
                "recorded_at": utc_stamp(start + timedelta(minutes=1)),
            }
            open_start = None
            continue
        if i % 10 == 3:
            open_start = (i + 1, common, start)  # seq of this entry is i + 1
            yield {
                **common,
                "kind": "start",
                "start_at": start.isoformat(),
                "end_at": None,
                "end_of": None,
                "recorded_at": utc_stamp(start + timedelta(minutes=1)),
            }
            continue
        yield {
            **common,
            "kind": "action",
            "start_at": start.isoformat(),
            "end_at": end.isoformat(),
            "end_of": None,
            "recorded_at": utc_stamp(end + timedelta(minutes=1)),
        }


def make(folder: Path, n: int, batch: int = 100_000) -> float:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ppe.yaml").write_text(
        yaml.safe_dump(site_config(), allow_unicode=True, sort_keys=False)
    )
    site = load_site(folder)
    if not (folder / "keys").exists():
        init_keys(site, PASSPHRASE.encode(), key_size=2048)
    conn = connect(site.db_path)
    if conn.execute("SELECT COUNT(*) FROM pak_entries").fetchone()[0]:
        raise SystemExit(f"{folder} already has a log")
    began = time.perf_counter()
    chunk = []
    for entry in entries(site, n):
        chunk.append(entry)
        if len(chunk) == batch:
            append_entries(conn, chunk)
            chunk = []
    if chunk:
        append_entries(conn, chunk)
    return time.perf_counter() - began


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/pak-bench")
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    seconds = make(target, count)
    size = (
        os.path.getsize(target / "ppe.db") + os.path.getsize(target / "ppe.db-wal")
        if (target / "ppe.db-wal").exists()
        else os.path.getsize(target / "ppe.db")
    )
    print(
        f"made {count} entries in {seconds:.1f} s ({count / seconds:,.0f}/s) in {target} "
        f"(db {size / 1e6:.0f} MB) at {datetime.now(UTC):%Y-%m-%d %H:%M}Z"
    )
