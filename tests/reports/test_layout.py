"""Where things land on the page (issue 12 item 5): each signature stamp in its signer's own
signature row, beside the printed name; no page holding a single row of a table."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from itertools import combinations
from pathlib import Path

import pytest

from tests.conftest import write_site
from tests.reports.conftest import (
    EXAM,
    add_archive,
    add_camera_run,
    add_checklist_run,
    add_log,
    give_own_key,
    keyed_site,
    nss_db,
    pdfsig,
    russian_config,
)
from tests.reports.test_rooms import CAMERAS, _station_run

SURNAMES = {
    "technician": "Иванов",
    "head": "Петров",
    "commission": "Сидорова",
    "organisation_head": "Кузнецова",
}


def words(path: Path) -> list[list[tuple[str, float, float, float, float]]]:
    """Each page's words with their boxes (x1, y1, x2, y2; points from the top left corner)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    out = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = []
    for page in out.split("<page ")[1:]:
        found = re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
            page,
        )
        pages.append([(html.unescape(w), *map(float, box)) for *box, w in found])
    return pages


def stamps(path: Path) -> dict[str, tuple[int, tuple[float, float, float, float]]]:
    """Each signature widget: field name -> (page index, /Rect turned to top-left origin)."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    found = {}
    for index, page in enumerate(reader.pages):
        height = float(page.mediabox.height)
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            field = annot if "/FT" in annot else annot.get("/Parent", {}).get_object()
            if field.get("/FT") != "/Sig":
                continue
            x1, y1, x2, y2 = (float(v) for v in annot["/Rect"])
            found[str(field["/T"])] = (index, (x1, height - y2, x2, height - y1))
    return found


@pytest.fixture
def signsite(site_dir, monkeypatch):
    """A point with every form's data, and every signer's own key."""
    from ppe_tech.store import connect

    config = russian_config(cameras=CAMERAS)
    config["staff"]["organisation_head"] = {"name": "Кузнецова О.В.", "position": "директор"}
    config["rooms"] = [
        {"number": "0001", "kind": "auditorium"},
        {"number": "7777", "kind": "staff-room", "name": "Штаб"},
    ]
    config["stations"] = [
        {"id": "print-0001", "role": "print", "room": "0001"},
        {"id": "auth-main", "role": "authorisation", "room": "7777"},
    ]
    site = keyed_site(site_dir, monkeypatch, config)
    for role in ("head", "commission", "organisation_head"):
        give_own_key(site, monkeypatch, role, f"{role}-pass")
    conn = connect(site.db_path)
    add_checklist_run(conn)
    add_camera_run(site, conn, len(CAMERAS))
    add_archive(conn)
    _station_run(site, conn, "print-0001", "0001", "print")
    _station_run(site, conn, "auth-main", "7777", "authorisation")
    yield site, conn
    conn.close()


FORMS = {  # case: (kind, room, log rows)
    "readiness": ("readiness", None, 6),
    "act": ("act", None, 6),
    "room": ("room", "0001", 6),
    "staff-room": ("room", "7777", 6),
    "archive": ("archive", None, 6),
    "access-log": ("access-log", None, 6),
    "access-log-segments": ("access-log", None, 140),  # three documents, joined
}


@pytest.mark.parametrize("case", list(FORMS))
def test_each_stamp_sits_in_its_signers_row(signsite, case, tmp_path, monkeypatch):
    from ppe_tech.keys import cert_path
    from ppe_tech.reports import render
    from ppe_tech.reports.core import countersign, make_report
    from ppe_tech.reports.verify import verify_report

    site, conn = signsite
    kind, room, rows = FORMS[case]
    add_log(site, conn, n=rows)
    monkeypatch.setattr(render, "SEGMENT_ROWS", 50)
    path = Path(make_report(site, conn, kind, EXAM, room=room, allow_incomplete=True)["file"])
    signers = render.SIGNERS[kind]
    for role in signers:
        if role != "technician":
            countersign(site, conn, path, role)

    placed, pages = stamps(path), words(path)
    assert set(placed) == {"technician", *signers}
    for role in signers:
        page, (x1, y1, x2, y2) = placed[role]
        assert y2 < float(842) - 34 / 25.4 * 72, f"{role}: stamp in the bottom margin"
        row = [w for w in pages[page] if y1 <= (w[2] + w[4]) / 2 <= y2]
        mine = [w for w in row if w[0] == SURNAMES[role]]
        assert mine and all(w[3] <= x1 for w in mine), f"{role}: not beside its name: {row}"
        others = {w[0] for w in row} & (set(SURNAMES.values()) - {SURNAMES[role]})
        assert not others, f"{role}'s stamp over the row of {others}"
    for (pa, a), (pb, b) in combinations(placed.values(), 2):
        apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
        assert pa != pb or apart, f"stamps overlap: {a}, {b}"

    report = verify_report(site, conn, path)
    assert report.ok, report.verdict
    sigs = pdfsig(path, nss_db(tmp_path / "nss", cert_path(site)))
    assert [s["signature"] for s in sigs] == ["Signature is Valid."] * len(placed), sigs


# -- no page holding a single row of a table ------------------------------------------------
def page_texts(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [" ".join(p.extract_text().split()) for p in PdfReader(str(path)).pages]


def fresh_log(site, conn, n: int) -> None:
    """``n`` journal entries of the last hours (recorded in time: no audit findings)."""
    from datetime import datetime, timedelta

    from ppe_tech.pak.journal import record_action

    now = datetime.now(site.tz).replace(tzinfo=None, microsecond=0)
    for i in range(n):
        record_action(
            site,
            conn,
            action=("performance_check", "recording_start", "export")[i % 3],
            rooms="Аудитория 0001, Штаб",
            start=now - timedelta(minutes=n - i),
        )


@pytest.mark.parametrize(
    "rows, segment_rows",
    [(51, 500), (101, 50)],  # 10 + 20 + 20 + 1 rows; documents of 50 + 50 + 1 rows
    ids=["one-document", "segments"],
)
def test_no_page_holds_a_single_row_of_the_journal(rsite, conn, rows, segment_rows, monkeypatch):
    from ppe_tech.reports import render
    from ppe_tech.reports.core import make_report

    fresh_log(rsite, conn, rows)
    monkeypatch.setattr(render, "SEGMENT_ROWS", segment_rows)
    path = Path(make_report(rsite, conn, "access-log", lang="ru")["file"])
    texts = page_texts(path)
    counts = [len(re.findall(r"журнала № \d+", text)) for text in texts]
    assert sum(counts) == rows, counts
    assert 1 not in counts, f"a page holding a single row: {counts}"
    signatures = next(i for i, text in enumerate(texts) if "Подписи" in text)
    assert counts[signatures] >= render.MIN_ROWS, f"the signature lines alone: {counts}"
    for page, number in zip(words(path), range(1, len(texts) + 1), strict=True):
        (label,) = [w for w in page if w[0] == "Страница"]
        assert label[2] > 842 - 34 / 25.4 * 72, f"page {number}: its number is not at the bottom"


def test_no_page_holds_a_single_row_of_a_room_protocol(rsite, conn):
    """Eleven stations checked (a station row and two item rows each) and one never checked
    (its row alone): 34 rows, laid out 12 + 21 + 1 before the rows were kept together."""
    from ppe_tech.reports.core import build_data
    from ppe_tech.reports.render import render_pdf
    from ppe_tech.site import load_site

    config = russian_config(cameras=CAMERAS)
    config["rooms"] = [{"number": "0001", "kind": "auditorium"}]
    config["stations"] = [
        {"id": f"print-{i:04d}", "role": "print", "room": "0001"} for i in range(1, 13)
    ]
    write_site(rsite.folder, config)
    site = load_site(rsite.folder)
    add_camera_run(site, conn, len(CAMERAS))
    for i in range(1, 12):
        _station_run(site, conn, f"print-{i:04d}", "0001", "print")
    data = build_data(site, conn, "room", EXAM, room="0001", number="X", allow_incomplete=True)
    path = site.folder / "room.pdf"
    path.write_bytes(render_pdf(site, data, "ru"))
    pattern = r"print-\d{4}:|Версия ПО станции|Принтер готов"
    counts = [len(re.findall(pattern, text)) for text in page_texts(path)]
    assert sum(counts) == 11 * 3 + 1, counts
    assert 1 not in counts, f"a page holding a single row: {counts}"


def test_values_wrap_between_words_not_inside_them(populated, conn):
    """The readiness head (exam date, start, deadline side by side) broke "28.05.2026" into
    "28.05.202" and "6", and "10:00" into "10:0" and "0"."""
    from ppe_tech.reports.core import make_report

    path = Path(make_report(populated, conn, "readiness", EXAM)["file"])
    first = page_texts(path)[0]
    for value in ("Дата экзамена 28.05.2026", "Начало экзамена 10:00", "28.05.2026 08:00 MSK"):
        assert value in first, value
