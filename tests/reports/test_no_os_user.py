"""Who confirmed an item by hand is a person on the page, not an OS account: the stores keep
"Иванов И.И. (root)" (stations/run.py, cli/check.py), the forms print "Иванов И.И."."""

from __future__ import annotations

from pathlib import Path

from tests.reports.conftest import EXAM, add_checklist_run, pdf_text
from tests.reports.test_rooms import _station_run, roomsite  # noqa: F401 (the fixture)


def test_readiness_and_room_protocols_name_the_person_only(roomsite):  # noqa: F811
    from ppe_tech.reports.core import build_data
    from ppe_tech.reports.render import render_pdf

    rsite, conn = roomsite
    add_checklist_run(conn)
    _station_run(rsite, conn, "print-0001", "0001", "print")
    for table in ("check_results", "station_items"):
        conn.execute(
            f"UPDATE {table} SET answered_by = 'Иванов И.И. (root)' WHERE answered_by != ''"
        )
    manual = {"readiness": "Резервный комплект на месте", "room": "Принтер готов"}
    for kind, room in (("readiness", None), ("room", "0001")):
        data = build_data(rsite, conn, kind, EXAM, room=room, number="X")
        path = Path(rsite.folder / f"{kind}.pdf")
        path.write_bytes(render_pdf(rsite, data, "ru"))
        text = pdf_text(path)
        assert manual[kind] in text and "root" not in text, kind
