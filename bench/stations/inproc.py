"""The work itself, without interpreter start-up: import 40 result files and compute readiness.

Usage: inproc.py SITE RESULTS   (a fresh copy of the store is used, so files import anew)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from ppe_tech.site import load_site
from ppe_tech.stations.resultfile import import_folder
from ppe_tech.stations.results import point_readiness
from ppe_tech.store import connect


def main(site_dir: Path, results: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "site"
        shutil.copytree(site_dir, copy, ignore=shutil.ignore_patterns("ppe.db*"))
        shutil.copy(site_dir / "ppe.db", copy / "ppe.db")  # cameras rows, no station rows yet
        began = time.perf_counter()
        site = load_site(copy)
        conn = connect(site.db_path)
        loaded = time.perf_counter()
        report = import_folder(site, conn, results, exam_id="2026-05-28-math")
        imported = time.perf_counter()
        readiness = point_readiness(conn, site, site.exam("2026-05-28-math"))
        done = time.perf_counter()
    print(
        f"load site + open store {1000 * (loaded - began):.0f} ms; "
        f"import {len(report.imported)} files {1000 * (imported - loaded):.0f} ms; "
        f"readiness of {len(readiness.rooms)} rooms {1000 * (done - imported):.0f} ms"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
