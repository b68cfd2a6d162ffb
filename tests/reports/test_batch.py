"""``report room --room all``: the protocols laid out in worker processes, signed, written and
registered by the command itself in the order of the rooms (issue 12, bench/reports/rooms30.py)."""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest

from ppe_tech.errors import ExitCode
from tests.reports.conftest import EXAM, add_camera_run, keyed_site, pdf_text, russian_config
from tests.reports.test_rooms import _station_run

ROOMS = ["0001", "0002", "0003"]


@pytest.fixture
def rooms3(site_dir, monkeypatch):
    from ppe_tech.store import connect

    cameras = [  # the cameras add_camera_run verifies, one in each room
        {"id": cam, "zone": "auditorium", "room": n, "source": "cam.mp4"}
        for cam, n in zip(("aud-0001-a", "corridor-1", "entrance"), ROOMS, strict=True)
    ]
    config = russian_config(cameras=cameras)
    config["rooms"] = [{"number": n, "kind": "auditorium"} for n in ROOMS]
    config["stations"] = [{"id": f"print-{n}", "role": "print", "room": n} for n in ROOMS]
    site = keyed_site(site_dir, monkeypatch, config)
    db = connect(site.db_path)
    add_camera_run(site, db, len(cameras))
    yield site, db
    db.close()


def test_rooms_are_laid_out_in_worker_processes(rooms3):
    from ppe_tech.reports import render
    from ppe_tech.reports.core import build_data

    site, conn = rooms3
    for n in ROOMS:
        _station_run(site, conn, f"print-{n}", n, "print")
    reports = [build_data(site, conn, "room", EXAM, room=n, number=f"N-{n}") for n in ROOMS]
    with render.rendering(site, reports) as pdfs:
        first = next(pdfs)
        workers = [
            p
            for p in psutil.Process().children(recursive=True)
            if "multiprocessing" in " ".join(p.cmdline())
        ]
        pdfs = [first, *pdfs]
    assert len(workers) >= 2, "no worker processes (a forkserver and its workers)"
    here = render.render_pdf(site, reports[1], "ru")  # the same document, laid out here
    assert [render.MAX_WORKERS, len(pdfs)] == [2, 3]
    for n, pdf in zip(ROOMS, pdfs, strict=True):
        path = site.folder / f"{n}.pdf"
        path.write_bytes(pdf)
        assert f"Номер аудитории {n}" in pdf_text(path) and f"print-{n}" in pdf_text(path)
    (site.folder / "here.pdf").write_bytes(here)
    assert pdf_text(site.folder / "here.pdf") == pdf_text(site.folder / "0002.pdf")


def test_all_rooms_signed_and_registered_in_their_order(rooms3, cli):
    site, conn = rooms3
    for n in ROOMS:
        _station_run(site, conn, f"print-{n}", n, "print")
    made = cli("report", "room", "--exam", EXAM, "--room", "all")
    assert made.exit_code == 0, made.stderr
    rows = json.loads(cli("report", "list", "--json").stdout)
    assert [(r["number"][-4:], Path(r["path"]).name.split("-room-")[1]) for r in rows] == [
        ("0001", "0001-ru.pdf"),
        ("0002", "0002-ru.pdf"),
        ("0003", "0003-ru.pdf"),
    ]
    assert len({r["checkpoint"] for r in rows}) == 1  # one checkpoint of the log for the batch
    for row in rows:
        verdict = cli("report", "verify", str(site.path(row["path"])))
        assert verdict.exit_code == 0, verdict.stdout


def test_one_room_missing_a_part_refuses_them_all(rooms3, cli):
    site, conn = rooms3
    for n in ROOMS[:2]:  # the third room's station was never checked
        _station_run(site, conn, f"print-{n}", n, "print")
    made = cli("report", "room", "--exam", EXAM, "--room", "all")
    assert made.exit_code == ExitCode.FAILED, made.stderr
    assert "stations never checked for this exam: print-0003" in made.stderr
    assert json.loads(cli("report", "list", "--json").stdout) == []
    assert not list(site.reports_dir.glob("*.pdf"))
