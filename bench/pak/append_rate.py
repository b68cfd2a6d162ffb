"""Durable append rate of the PAK log vs what a user would otherwise do, measured in one run.

Each append of ``record_action`` is its own ``BEGIN IMMEDIATE`` transaction with
``synchronous=FULL`` in WAL mode (fsync of the WAL on every commit), plus the
triggers and the hash chain. Compared with:
- a plain SQLite table, one INSERT per autocommit transaction, same pragmas, no chain;
- a CSV line appended to a text file followed by fsync (a "digital paper journal").
And the journal's batch path (``append_entries``, 100 entries per transaction: one
fsync per batch), which is how to go past the disk's fsync latency.

    .venv/bin/python bench/pak/append_rate.py [N=2000] [FOLDER=/tmp/pak-append-bench]
"""

from __future__ import annotations

import csv
import os
import shutil
import sqlite3
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from ppe_tech.pak.journal import append_entries, make_entry, record_action  # noqa: E402
from ppe_tech.site import load_site  # noqa: E402
from ppe_tech.store import connect  # noqa: E402

CONFIG = {
    "point": {"code": "7701", "name": "Bench", "timezone": "Europe/Moscow"},
    "staff": {
        "technician": {"name": "Иванов И.И.", "position": "технический специалист"},
        "head": {"name": "Петров А.А.", "position": "руководитель ППЭ"},
    },
}


def pak_appends(folder: Path, n: int) -> float:
    site = load_site(folder)
    conn = connect(site.db_path)
    t0 = datetime(2026, 5, 28, 8, 0)
    began = time.perf_counter()
    for i in range(n):
        record_action(
            site,
            conn,
            action="performance_check",
            rooms="Аудитория 0001",
            start=t0 + timedelta(minutes=i),
            end=t0 + timedelta(minutes=i + 1),
        )
    return time.perf_counter() - began


def pak_batches(folder: Path, n: int, batch: int = 100) -> float:
    """Group commit: ``append_entries`` writes ``batch`` entries per transaction (one fsync)."""
    site = load_site(folder)
    conn = connect(site.db_path)
    t0 = datetime(2026, 5, 29, 8, 0)
    base = make_entry(
        site,
        kind="action",
        action="export",
        rooms="Аудитория 0001",
        start=t0,
        end=None,
        performed_by="technician",
        responsible="head",
        note="",
    )
    began = time.perf_counter()
    for first in range(0, n, batch):
        append_entries(conn, [dict(base, note=str(i)) for i in range(first, min(n, first + batch))])
    return time.perf_counter() - began


def plain_sqlite(folder: Path, n: int) -> float:
    conn = sqlite3.connect(folder / "plain.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE log (id INTEGER PRIMARY KEY, day TEXT, room TEXT, action TEXT, who TEXT)"
    )
    began = time.perf_counter()
    for _ in range(n):
        conn.execute(
            "INSERT INTO log (day, room, action, who) VALUES (?, ?, ?, ?)",
            ("2026-05-28", "Аудитория 0001", "performance_check", "Иванов И.И."),
        )
    return time.perf_counter() - began


def csv_fsync(folder: Path, n: int) -> float:
    began = time.perf_counter()
    with open(folder / "journal.csv", "a", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        for i in range(n):
            writer.writerow([i, "2026-05-28", "Аудитория 0001", "performance_check", "Иванов И.И."])
            fh.flush()
            os.fsync(fh.fileno())
    return time.perf_counter() - began


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    folder = Path(sys.argv[2] if len(sys.argv) > 2 else "/tmp/pak-append-bench")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "ppe.yaml").write_text(yaml.safe_dump(CONFIG, allow_unicode=True))
    results = {}
    for name, fn in (
        ("pak record_action", pak_appends),
        ("plain SQLite INSERT", plain_sqlite),
        ("CSV line + fsync", csv_fsync),
        ("pak batches of 100", pak_batches),
    ):
        seconds = fn(folder, n)
        results[name] = n / seconds
    base = results["pak record_action"]
    print(f"{n} durable appends each, load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
    for name, rate in results.items():
        print(f"  {name:<22} {rate:8,.0f} appends/s  ({rate / base:.2f}x pak)")


if __name__ == "__main__":
    main()
