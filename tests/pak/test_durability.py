"""Concurrent writers and a writer killed mid-append: one valid chain, never a half entry."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from ppe_tech.pak.chain import verify_log


def _writer(folder: str, name: str, count: int, ready, go) -> None:
    from datetime import datetime, timedelta

    from ppe_tech.pak.journal import record_action
    from ppe_tech.site import load_site
    from ppe_tech.store import connect

    site = load_site(Path(folder))
    conn = connect(site.db_path)
    ready.release()
    go.wait()
    start = datetime(2026, 5, 27, 8, 0)
    for i in range(count):
        record_action(
            site,
            conn,
            action="performance_check",
            rooms=name,
            start=start + timedelta(seconds=i),
            note=f"{name} {i}",
        )
        time.sleep(0.001)  # a technician's pace, compressed: lets the others take the lock
    conn.close()


def test_four_processes_append_500_each(site, conn):
    writers, per = 4, 500
    ctx = multiprocessing.get_context("spawn")
    ready, go = ctx.Semaphore(0), ctx.Event()
    procs = [
        ctx.Process(target=_writer, args=(str(site.folder), f"writer-{w}", per, ready, go))
        for w in range(writers)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        assert ready.acquire(timeout=60)
    go.set()  # all at once
    for p in procs:
        p.join(timeout=150)
        assert p.exitcode == 0
    result = verify_log(site, conn)
    assert result.ok, result.message
    assert result.size == writers * per
    counts = Counter(r[0] for r in conn.execute("SELECT rooms FROM pak_entries"))
    assert counts == {f"writer-{w}": per for w in range(writers)}
    seqs = [r[0] for r in conn.execute("SELECT seq FROM pak_entries ORDER BY seq")]
    assert seqs == list(range(1, writers * per + 1))
    # the writers really interleaved (not one after another)
    order = [r[0] for r in conn.execute("SELECT rooms FROM pak_entries ORDER BY seq")]
    switches = sum(1 for a, b in zip(order, order[1:], strict=False) if a != b)
    assert switches > 10 * writers


KILLED_WRITER = """
import sys
from datetime import datetime, timedelta
from pathlib import Path
from ppe_tech.pak.journal import make_entry, append_entries, record_action
from ppe_tech.site import load_site
from ppe_tech.store import connect
site = load_site(Path(sys.argv[1]))
conn = connect(site.db_path)
batch = int(sys.argv[2])
start = datetime(2026, 5, 27, 8, 0)
i = 0
while True:
    i += 1
    if batch == 1:
        record_action(site, conn, action="export", rooms="Staff room", start=start, note=f"{i}")
    else:
        base = make_entry(site, kind="action", action="export", rooms="Staff room", start=start,
                      end=None, performed_by="technician", responsible="head", note="")
        append_entries(conn, [dict(base, note=f"{i} {k}") for k in range(batch)])
"""


def _run_and_kill(site, batch: int, at_least: int) -> int:
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(site.folder), str(batch)],
        env={**os.environ},
    )
    try:
        probe = sqlite3.connect(site.db_path, timeout=30)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                seen = probe.execute("SELECT COUNT(*) FROM pak_entries").fetchone()[0]
            except sqlite3.OperationalError:  # table not made yet
                seen = 0
            if seen >= at_least:
                break
            time.sleep(0.02)
        probe.close()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return seen


def test_sigkill_during_single_appends(site):
    from ppe_tech.store import connect

    _run_and_kill(site, batch=1, at_least=50)
    conn = connect(site.db_path)  # opens (WAL recovery), migrations intact
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    result = verify_log(site, conn)
    assert result.ok, result.message and result.size >= 50
    bad = conn.execute(
        "SELECT COUNT(*) FROM pak_entries WHERE hash IS NULL OR length(hash) != 32 OR note = ''"
    ).fetchone()[0]
    assert bad == 0
    # and the log goes on: a new append continues the same chain
    from datetime import datetime

    from ppe_tech.pak.journal import record_action

    record_action(
        site, conn, action="export", rooms="Staff room", start=datetime(2026, 5, 27, 9, 0)
    )
    assert verify_log(site, conn).ok


def test_sigkill_during_batch_appends_leaves_whole_batches(site):
    from ppe_tech.store import connect

    batch = 2000
    _run_and_kill(site, batch=batch, at_least=batch)
    conn = connect(site.db_path)
    result = verify_log(site, conn)
    assert result.ok, result.message
    assert result.size % batch == 0 and result.size >= batch  # a transaction is all or nothing


def test_checkpoints_while_another_process_appends(site, conn):
    """A checkpoint taken during appends covers a consistent prefix and verifies afterwards."""
    from ppe_tech.pak.chain import create_checkpoint, verify_checkpoint

    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(site.folder), "1"])
    try:
        deadline = time.monotonic() + 60
        while conn.execute("SELECT COUNT(*) FROM pak_entries").fetchone()[0] < 20:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        checkpoints = []
        for _ in range(5):
            checkpoints.append(create_checkpoint(site, conn))
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    sizes = [cp.size for cp in checkpoints]
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]  # the log grew between them
    for cp in checkpoints:
        check = verify_checkpoint(site, conn, cp.text)
        assert check.ok, check.message
    assert verify_log(site, conn).ok
