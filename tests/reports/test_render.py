"""Each report in Russian and English: text read back from the PDF, page 1 as PNG, PDF/A-3b."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.reports.conftest import EXAM, add_log, pdf_text

EXPECTED = {
    ("readiness", "ru"): [
        "Протокол технической готовности",
        "Школа № 5",
        "ул. Ленина, 1",
        "Часы станции",
        "не соответствует",
        "Иванов И.И.",
        "в сейфе",
        "в срок",
        "Руководитель ППЭ",
        "Член ГЭК",
        "Страница 1 из",
        "Подпись",
    ],
    ("readiness", "en"): [
        "Technical readiness protocol",
        "Station clock",
        "FAIL",
        "on time",
        "Head of the exam point",
        "Page 1 of",
        "Backup kit in place",
    ],
    ("archive", "ru"): [
        "Акт архивирования видеозаписей",
        "corridor-1",
        "Коридор 1 этажа",
        "c0ffeec0ffee",
        "7701-2026-05-28-math",  # the bag (no paths on a ru page)
        "Обнаруженные разрывы записи",
        "150 с",
        "Страница 1 из",
    ],
    ("archive", "en"): [
        "Video recordings archive act",
        "Gaps found in the recordings",
        "Archive manifest hash",
        "Archive (BagIt folder)",
    ],
    ("access-log", "ru"): [
        "Выписка из журнала доступа",
        "Извлечение карты памяти",
        "Петров А.А. руководитель ППЭ",
        "Аудитория 0001, Штаб",  # name, position cells
        "Контрольная точка журнала",
        "Результаты проверки журнала",
    ],
    ("access-log", "en"): [
        "Extract from the video access (PAK) log",
        "Memory card removal",
        "Log checkpoint",
        "Log audit findings",
        "Performed by",
    ],
}


@pytest.mark.parametrize("kind", ["readiness", "archive", "access-log"])
def test_report_in_russian_and_english(populated, conn, kind, tmp_path):
    from pypdf import PdfReader

    from ppe_tech.reports.core import make_report

    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) not installed")
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    for lang in ("ru", "en"):
        row = make_report(populated, conn, kind, EXAM, lang=lang)
        path = Path(row["file"])
        assert path.parent == populated.reports_dir
        text = pdf_text(path)
        for needle in EXPECTED[(kind, lang)]:
            assert needle in text, f"{kind}/{lang}: {needle!r} missing"
        reader = PdfReader(str(path))
        # PDF/A-3b with the raw results attached
        xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
        assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
        data = json.loads(reader.attachments["results.json"][0])
        assert data["number"] == row["number"] and data["kind"] == kind and data["lang"] == lang
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
        font_rows = fonts.splitlines()[2:]
        assert font_rows and all(" yes " in line for line in font_rows), fonts  # all embedded
        png = artifacts / f"{kind}-{lang}"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path), str(png)], check=True
        )
        assert (artifacts / f"{kind}-{lang}-1.png").stat().st_size > 5000


def test_absent_jobs_show_as_absent(rsite, conn):
    from ppe_tech.reports.core import make_report

    row = make_report(rsite, conn, "archive", EXAM, lang="en", allow_incomplete=True)
    text = pdf_text(Path(row["file"]))
    assert "absent (job not installed or not run yet)" in text
    row = make_report(rsite, conn, "readiness", EXAM, lang="ru", allow_incomplete=True)
    assert "нет данных" in pdf_text(Path(row["file"]))


def test_site_overrides_a_template(populated, conn):
    from ppe_tech.reports.core import make_report

    shipped = Path(__file__).resolve().parents[2] / "templates" / "archive.html"
    custom = populated.folder / "templates" / "archive.html"
    custom.parent.mkdir()
    custom.write_text(
        shipped.read_text().replace(
            "{% block content %}", "{% block content %}<p>ОСОБАЯ ФОРМА 7701</p>", 1
        )
    )
    row = make_report(populated, conn, "archive", EXAM, lang="ru")
    assert "ОСОБАЯ ФОРМА 7701" in pdf_text(Path(row["file"]))


def test_long_log_is_split_into_page_tables_and_segments(rsite, conn, monkeypatch, cli):
    from pypdf import PdfReader

    from ppe_tech.reports import render
    from ppe_tech.reports.core import build_data, make_report

    add_log(rsite, conn, n=130)
    data = build_data(rsite, conn, "access-log", number="X")
    html = render.render_html(rsite, data, "ru")
    first, rest = render.FIRST_CHUNK_ROWS, render.CHUNK_ROWS
    assert html.count('<table class="grid log') == 1 + -(-(130 - first) // rest)
    # rendered as three documents of 50 rows, joined, numbered "page X of Y" afterwards
    monkeypatch.setattr(render, "SEGMENT_ROWS", 50)
    row = make_report(rsite, conn, "access-log", lang="ru")
    reader = PdfReader(row["file"])
    pages = len(reader.pages)
    assert pages >= 8
    texts = [" ".join(p.extract_text().split()) for p in reader.pages]
    for number, text in enumerate(texts, 1):
        assert f"Страница {number} из {pages}" in text, number
    joined = " ".join(texts)
    assert (
        joined.count("Подписи") == 1 and "Подписи" in texts[-1]
    )  # signature lines once, at the end
    assert " 130 " in joined and reader.attachments["results.json"]
    verdict = cli("report", "verify", row["file"])
    assert verdict.exit_code == 0, verdict.stdout


def test_readiness_shows_camera_table_and_snapshot_grid(populated, conn):
    from pypdf import PdfReader

    from ppe_tech.reports.core import make_report
    from tests.reports.conftest import add_camera_run

    add_camera_run(populated, conn, 6)
    row = make_report(populated, conn, "readiness", EXAM, lang="ru")
    text = pdf_text(Path(row["file"]))
    for needle in (
        "Видеонаблюдение: проверка камер",
        "aud-0001-a",
        "Коридор 1 этажа",
        "изображение слишком тёмное",
        "есть замечания",
        "исправна",
        "Снимки с камер",
    ):
        assert needle in text, needle
    listing = subprocess.run(["pdfimages", "-list", row["file"]], capture_output=True, text=True)
    images = [line for line in listing.stdout.splitlines()[2:] if " image " in line]
    assert len(images) == 6 and all(" jpeg " in line for line in images)  # embedded as JPEG
    assert len(PdfReader(row["file"]).pages) >= 2
