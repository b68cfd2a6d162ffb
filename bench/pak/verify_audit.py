"""Time to verify and to audit the PAK log of a site (make one with make_log.py), in one run.

Prints: verify (library; and the chain scan alone), audit (rules only, and with the
chain check), and for comparison what a user might do instead to "seal" the
database: SHA-256 of the whole file (finds that something changed, not what)
and SQLite's PRAGMA integrity_check (finds corruption, not tampering).

    .venv/bin/python bench/pak/verify_audit.py /tmp/pak-bench
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from ppe_tech.pak.audit import audit  # noqa: E402
from ppe_tech.pak.chain import scan_chain, verify_log  # noqa: E402
from ppe_tech.site import load_site  # noqa: E402
from ppe_tech.store import connect  # noqa: E402


def timed(label: str, fn, repeat: int = 3):
    """Best wall time of ``repeat`` runs, and the CPU time of that run (the machine is shared:
    CPU time shows the work when other processes take the cores)."""
    best, best_cpu, result = None, None, None
    for _ in range(repeat):
        began, began_cpu = time.perf_counter(), time.process_time()
        result = fn()
        seconds, cpu = time.perf_counter() - began, time.process_time() - began_cpu
        if best is None or seconds < best:
            best, best_cpu = seconds, cpu
    print(
        f"  {label:<42} best of {repeat}: {best:6.2f} s wall, {best_cpu:6.2f} s CPU"
        f"   (load {os.getloadavg()[0]:.1f})"
    )
    return result


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/pak-bench")
    os.environ.setdefault("PPE_KEY_PASSPHRASE", "bench")
    site = load_site(folder)
    conn = connect(site.db_path)
    n = conn.execute("SELECT COUNT(*) FROM pak_entries").fetchone()[0]
    print(f"{n:,} entries, {os.cpu_count()} CPUs")
    timed("verify_log (chain + stored checkpoints)", lambda: verify_log(site, conn))
    timed("scan_chain (the chain alone)", lambda: scan_chain(conn))
    found = timed("audit, rules only", lambda: audit(site, conn, check_chain=False), repeat=1)
    print(f"    {len(found)} findings")
    timed("audit with the chain check", lambda: audit(site, conn), repeat=1)

    def sha_file():
        h = hashlib.sha256()
        with open(site.db_path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        return h.hexdigest()

    timed("baseline: sha256 of ppe.db", sha_file)
    plain = sqlite3.connect(site.db_path)
    timed(
        "baseline: PRAGMA integrity_check",
        lambda: plain.execute("PRAGMA integrity_check").fetchone(),
        repeat=1,
    )


if __name__ == "__main__":
    main()
