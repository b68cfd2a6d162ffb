"""A readiness protocol with 16 camera snapshots, rendered and signed (goal: 3 s or less).

    python bench/reports/readiness16.py [--runs 3]

Makes a site in a temporary folder (keys, a checklist run, a camera verification
of 16 cameras with 768x576 JPEG snapshots cut from the shipped walkway clip),
then times ``make_report(..., "readiness")``: store read, Jinja2, WeasyPrint
PDF/A-3b, pyHanko signature, write and register. Prints each run and the median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from ppe_tech.keys import init_keys
    from ppe_tech.reports.core import make_report
    from ppe_tech.site import load_site
    from ppe_tech.store import connect
    from tests.conftest import write_site
    from tests.reports.conftest import (
        EXAM,
        PASSPHRASE,
        add_camera_run,
        add_checklist_run,
        russian_config,
    )

    os.environ["PPE_KEY_PASSPHRASE"] = PASSPHRASE
    folder = write_site(Path(tempfile.mkdtemp(prefix="ppe-bench-")) / "site", russian_config())
    site = load_site(folder)
    init_keys(site, PASSPHRASE.encode())
    conn = connect(site.db_path)
    add_checklist_run(conn)
    add_camera_run(site, conn, 16)
    make_report(site, conn, "readiness", EXAM)  # warm-up: imports, font loading
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        row = make_report(site, conn, "readiness", EXAM)
        times.append(time.perf_counter() - started)
        print(
            f"readiness, 16 snapshots: {times[-1]:.2f} s ({Path(row['file']).stat().st_size // 1024} KiB)"
        )
    print(f"median {statistics.median(times):.2f} s over {args.runs} runs")


if __name__ == "__main__":
    main()
