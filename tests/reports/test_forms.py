"""The page tells the truth (issue 12 item 4) and the forms carry their fields (items 3, 5).

Each form is read back with pdftotext: every required field and signature line is there, and a
Russian document holds no Latin-letter word except those on ALLOWED_LATIN.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from ppe_tech.errors import ExitCode
from tests.conftest import one_error_line
from tests.reports.conftest import (
    CAMERAS,
    EXAM,
    add_archive,
    add_camera_run,
    add_checklist_run,
    pdf_text,
)

# Latin words a Russian page may hold: ids of the user's own making (camera ids from ppe.yaml),
# names of formats and of the tool, as they are written on paper too
ALLOWED_LATIN = {
    "aud",
    "a",
    "corridor",
    "entrance",  # camera ids (aud-0001-a, corridor-1, entrance)
    "math",  # the exam id (2026-05-28-math), which names the bag
    "results",
    "json",
    "JSON",
    "PAdES",
    "BagIt",
    "SHA",
    "ppe",
    "tech",
    "pak",
    "verify",
    "MSK",
    "Europe",
    "Moscow",  # the zone, named with its IANA name
    "ARC",
    "RDY",
    "LOG",
    "ACT",
    "ROOM",  # document numbers (7701-RDY-2026-0001)
}
HEX = re.compile(r"^[0-9a-f]*[0-9][0-9a-f]*$")  # hashes and serials (wrapped over lines too)


def latin_words(text: str) -> set[str]:
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9]*", text))
    return {w for w in words if w not in ALLOWED_LATIN and not HEX.match(w.lower())}


# -- the page tells the truth ---------------------------------------------------------------
def test_readiness_refuses_another_exams_camera_run(english, rsite, conn, cli):
    """Defect: `report readiness` took the newest camera run of any exam."""
    add_checklist_run(conn)
    add_camera_run(rsite, conn, len(CAMERAS), exam_id="2026-05-27-other")
    result = cli("report", "readiness", "--exam", EXAM)
    one_error_line(result, ExitCode.FAILED, "no camera verification for exam", "cameras verify")
    assert not list(rsite.reports_dir.glob("*.pdf"))


def test_readiness_refuses_a_camera_run_of_one_camera_unless_allowed(english, rsite, conn, cli):
    """Defect: `cameras verify --camera X` then `report readiness` gave a signed protocol of one
    camera of many."""
    add_checklist_run(conn)
    add_camera_run(rsite, conn, 1)
    one_error_line(cli("report", "readiness", "--exam", EXAM), ExitCode.FAILED, "covers 1 of 3")
    made = cli("report", "readiness", "--exam", EXAM, "--allow-incomplete", "--json")
    assert made.exit_code == 0, made.stderr
    text = pdf_text(Path(json.loads(made.stdout)["file"]))
    assert "(неполный)" in text and "проверено камер: 1 из 3" in text


def test_readiness_without_a_checklist_run_is_refused(english, rsite, conn, cli):
    add_camera_run(rsite, conn, len(CAMERAS))
    one_error_line(
        cli("report", "readiness", "--exam", EXAM),
        ExitCode.FAILED,
        "no checklist run for exam 2026-05-28-math: run `ppe-tech check run` first",
    )


def test_run_option_chooses_the_run_and_refuses_another_exams(english, rsite, conn, cli):
    add_checklist_run(conn)
    add_checklist_run(conn, exam_id="2026-05-27-other")
    add_checklist_run(conn)
    add_camera_run(rsite, conn, len(CAMERAS))
    made = cli("report", "readiness", "--exam", EXAM, "--run", "1", "--json")
    assert made.exit_code == 0, made.stderr
    data = json.loads(cli("report", "show", "latest", "--data", "--json").stdout)["data"]
    assert [r["run_id"] for r in data["readiness"]["runs"]] == [1]
    one_error_line(
        cli("report", "readiness", "--exam", EXAM, "--run", "2"),
        ExitCode.USAGE,
        "belongs to exam 2026-05-27-other",
    )


def test_camera_run_made_by_the_checklist_is_the_one_shown(rsite, conn):
    from ppe_tech.reports.core import build_data

    add_camera_run(rsite, conn, len(CAMERAS))  # run 1: made by the checklist's cameras item
    add_checklist_run(conn)
    conn.execute(
        "INSERT INTO check_results (run_id, position, item_id, section_id, section_ru, section_en,"
        " title_ru, title_en, severity, kind, status, value, expected, duration_ms, attempts,"
        " finished_at) VALUES (1, 9, 'cameras', 'video', 'Видео', 'Video', 'Камеры', 'Cameras',"
        " 'critical', 'cameras', 'pass', '3/3 ok (run 1)', 'all cameras ok', 10, 1,"
        " '2026-05-28T04:50:00Z')"
    )
    add_camera_run(rsite, conn, len(CAMERAS))  # run 2: a later verification of the same exam
    data = build_data(rsite, conn, "readiness", EXAM)
    assert data["readiness"]["cameras"]["run_id"] == 1


def test_page_one_names_failed_critical_items_and_unchecked_ones(populated, conn):
    from ppe_tech.reports.core import make_report

    row = make_report(populated, conn, "readiness", EXAM)
    pages = pdf_text(Path(row["file"])).split("Страница 1 из")
    first = pages[0]
    assert "Итог проверки: не готов" in first
    assert "Не выполнены критичные пункты: Версия ПО станции (не соответствует)" in first
    # printer-ready is disabled in ppe.yaml's checks: said so, with the reason, by its title
    assert "не проверялось (отключено на этом ППЭ" in first
    assert "printer-ready" not in first  # named by its title, not its internal id


def test_archive_act_of_the_older_bag_and_one_act_per_bag(english, rsite, conn, cli):
    """Defect: `report archive` always took the newest bag."""
    add_archive(conn)  # archive 1: the corridor and entrance bag with the gap
    add_archive(conn)  # archive 2: a newer bag of the same exam
    conn.execute("UPDATE recordings_archives SET bag_path = '/media/archive/bag-2' WHERE id = 2")
    made = cli("report", "archive", "--archive", "1", "--json")
    assert made.exit_code == 0, made.stderr
    text = pdf_text(Path(json.loads(made.stdout)["file"]))
    assert (
        "Архив № 1" in text and "7701-2026-05-28-math" in text and "Хранить до 01.03.2027" in text
    )
    one_error_line(cli("report", "archive", "--archive", "1"), ExitCode.FAILED, "already made")
    by_bag = cli("report", "archive", "--bag", "/media/archive/bag-2", "--json")
    assert by_bag.exit_code == 0, by_bag.stderr
    data = json.loads(cli("report", "show", "latest", "--data", "--json").stdout)["data"]
    assert data["archive"]["archive_id"] == 2
    one_error_line(cli("report", "archive", "--archive", "9"), ExitCode.USAGE, "no archive 9")


# -- every form: its fields and signature lines, and Russian only --------------------------
FORM_FIELDS = {
    "readiness": [
        "Протокол технической готовности пункта проведения экзамена",
        "Наименование субъекта Российской Федерации г. Москва",
        "Код ППЭ 7701",
        "Документ №",
        "Дата составления",
        "Итог проверки",
        "Срок завершения проверки",
        "Видеонаблюдение: проверка камер",
        "Технический специалист",
        "Член ГЭК",
        "Руководитель ППЭ",
        "ФИО",
        "Должность",
        "Подпись",
        "Дата",
    ],
    "act": [
        "Форма ППЭ-01",
        "Акт готовности пункта проведения экзамена",
        "Наименование субъекта Российской Федерации г. Москва",
        "Наименование ППЭ Школа № 5",
        "Адрес ППЭ ул. Ленина, 1, Москва",
        "Руководитель ППЭ",
        "Руководитель организации, на базе которой организован ППЭ",
        "Кузнецова О.В.",
        "ППЭ не готов к проведению экзамена",
        "ФИО",
        "Подпись",
    ],
    "archive": [
        "Акт архивирования видеозаписей",
        "Архив № 1",
        "Носитель",
        "Хранить до 01.03.2027",
        "Хеш манифеста архива",
        "Передал:",
        "Технический специалист",
        "Получил:",
        "Руководитель ППЭ",
        "Подпись",
    ],
    "access-log": [
        "Выписка из журнала доступа к средствам видеонаблюдения",
        "Наименование субъекта Российской Федерации г. Москва",
        "Номер аудитории, в которой размещено средство видеонаблюдения",
        "Время (часы, минуты)",
        "Начало действия",
        "Окончание действия",
        "Осуществляемые действия",
        "Сведения о лице, осуществляющем действия",
        "Ответственный за видеонаблюдение в ППЭ",
        "ФИО",
        "Должность",
        "Подпись",
        "Строк в выписке",
        "Записей журнала в выписке",
    ],
}


@pytest.fixture
def formsite(site_dir, monkeypatch):
    from ppe_tech.store import connect
    from tests.reports.conftest import add_log, keyed_site, russian_config

    config = russian_config()
    config["staff"]["organisation_head"] = {"name": "Кузнецова О.В.", "position": "директор"}
    config["checks"] = {"disabled": ["printer-ready"]}
    for exam in config["exams"]:
        exam["subject"] = "Математика"  # the user's own words, in the point's language
    site = keyed_site(site_dir, monkeypatch, config)
    db = connect(site.db_path)
    add_checklist_run(db)
    add_camera_run(site, db, len(CAMERAS))
    add_archive(db)
    add_log(site, db)
    yield site, db
    db.close()


@pytest.mark.parametrize("kind", list(FORM_FIELDS))
def test_form_fields_and_no_latin_words(formsite, kind):
    from ppe_tech.reports.core import make_report

    site, conn = formsite
    row = make_report(site, conn, kind, EXAM, lang="ru")
    text = pdf_text(Path(row["file"]))
    words = set(re.findall(r"\w+", text))
    for needle in FORM_FIELDS[kind]:
        # a table head's words wrap inside its cell and pdftotext interleaves neighbouring
        # cells, so a field counts as found when each of its words is on the page
        missing = [w for w in re.findall(r"\w+", needle) if w not in words]
        assert needle in text or not missing, f"{kind}: {needle!r} missing ({missing})"
    assert latin_words(text) == set(), f"{kind}: Latin words on a Russian page"
    for forbidden in ("root", "/media/", "/tmp/", "(demo)", "printer-ready"):
        assert forbidden not in text, forbidden


def test_journal_rows_in_the_order_of_the_actions(formsite):
    from ppe_tech.pak.journal import record_action
    from ppe_tech.reports.core import build_data

    site, conn = formsite
    record_action(
        site,
        conn,
        action="performance_check",
        rooms="0002",
        start=datetime(2026, 5, 28, 6, 30),
        performed_by="technician",
        responsible="head",
    )
    rows = build_data(site, conn, "access-log", EXAM)["access_log"]["entries"]
    starts = [(r["date"], r["start"]) for r in rows]
    assert starts == sorted(starts) and rows[0]["start"] == "06:30"
    assert [r["row_no"] for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0]["performed"] == {"name": "Иванов И.И.", "position": "технический специалист"}
