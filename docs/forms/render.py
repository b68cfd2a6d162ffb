"""Render page one of each form as PNG into this folder (what docs/reports.md shows).

    .venv/bin/python docs/forms/render.py

Uses the reports tests' fixture site (Russian, keys, a checklist run, cameras with snapshots,
an archive, a log) and poppler's pdftoppm.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))


def main() -> None:
    from ppe_tech.keys import init_keys
    from ppe_tech.reports.core import make_report
    from ppe_tech.site import load_site
    from ppe_tech.store import connect
    from tests.conftest import write_site
    from tests.reports.conftest import (
        CAMERAS,
        EXAM,
        PASSPHRASE,
        add_archive,
        add_camera_run,
        add_checklist_run,
        add_log,
        russian_config,
    )

    config = russian_config()
    config["staff"]["organisation_head"] = {"name": "Кузнецова О.В.", "position": "директор"}
    for exam in config["exams"]:
        exam["subject"] = "Математика"
    os.environ["PPE_KEY_PASSPHRASE"] = PASSPHRASE
    site = load_site(write_site(Path(tempfile.mkdtemp(prefix="ppe-forms-")) / "site", config))
    init_keys(site, PASSPHRASE.encode())
    conn = connect(site.db_path)
    add_checklist_run(conn)
    add_camera_run(site, conn, len(CAMERAS))
    add_archive(conn)
    add_log(site, conn)
    room = {"room": site.rooms[0].number, "allow_incomplete": True}
    forms = {"readiness": {}, "act": {}, "archive": {}, "access-log": {}, "room": room}
    for kind, options in forms.items():
        row = make_report(site, conn, kind, EXAM, lang="ru", **options)
        out = HERE / kind
        pages = ["-f", "1", "-l", "1", "-singlefile"]
        subprocess.run(["pdftoppm", "-png", "-r", "60", *pages, row["file"], str(out)], check=True)
        print(f"{out}.png")


if __name__ == "__main__":
    main()
