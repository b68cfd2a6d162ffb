"""Every page, every form and the event stream, through Starlette's TestClient on the demo point."""

from __future__ import annotations

import html
import json
import sqlite3

import pytest

from tests.console.conftest import csrf_of, make_client

PAGES = [
    "/",
    "/cameras",
    "/recordings",
    "/pak",
    "/checklist",
    "/reports",
    "/login",
    "/cameras/progress",
]


def shown(response) -> str:
    """The page's text as a person reads it (entities decoded)."""
    return html.unescape(response.text)


def count(site, sql: str) -> int:
    with sqlite3.connect(site.db_path) as conn:
        return conn.execute(sql).fetchone()[0]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "Traceback" not in shown(response)


def test_overview_shows_the_demo_point(client, demo_site):
    page = client.get("/").text
    today = demo_site.select_exam(None, __import__("ppe_tech.timeutil").timeutil.utc_now())
    assert today.id in page and "Математика" in page  # the exam of the day, in Russian by default
    assert 'class="countdown" id="to-deadline"' in page
    assert "camera aud-0002-a fail (covered)" in shown(client.get("/"))  # its room: not ready, why
    assert "corridor-1: 1 gap" in page  # the planted gap
    assert "print station print-0003 never checked" in page  # the station nobody checked


def test_language_switch_is_remembered(client):
    english = client.get("/?lang=en")
    assert "Today's exam" in shown(english) and english.cookies.get("ppe_lang") == "en"
    assert "Verify all cameras" in client.get("/cameras").text
    assert "Проверить все камеры" in client.get("/cameras?lang=ru").text


def test_cameras_grid_shows_the_covered_camera_and_serves_snapshots(client):
    page = client.get("/cameras").text
    assert 'id="tile-aud-0002-a"' in page and "st-fail" in page and "covered" in page
    picture = client.get("/snapshot/aud-0001-a")
    assert picture.status_code == 200 and picture.content[:2] == b"\xff\xd8"  # a JPEG
    assert client.get("/snapshot/no-such-camera").status_code == 400


def test_recordings_page_draws_the_gap(client, demo_site):
    past = demo_site.config.exams[0].id
    page = client.get(f"/recordings?exam={past}").text
    row = page.split('id="rec-corridor-1"')[1].split("</tr>")[0]
    assert row.count('class="seg"') == 2  # two spans around the hatched gap
    assert "600 s" in row
    other = page.split('id="rec-entrance"')[1].split("</tr>")[0]
    assert other.count('class="seg"') == 1
    assert client.get("/recordings?exam=nope").status_code == 400


# -- forms -----------------------------------------------------------------------------------------
FORMS = [
    ("/pak/add", {"action": "performance_check", "rooms": "Staff room"}),
    ("/pak/start", {"action": "angle_adjustment", "rooms": "Auditorium 0001"}),
    ("/pak/end", {"start_seq": "1"}),
    ("/pak/checkpoint", {}),
    ("/cameras/verify", {}),
    ("/checklist/start", {"checklist": "pre-exam"}),
    ("/reports/make", {"kind": "readiness"}),
    ("/reports/verify", {"number": "x"}),
    ("/logout", {}),
]


@pytest.mark.parametrize(("path", "form"), FORMS)
def test_every_form_refuses_a_missing_or_wrong_csrf_token(client, demo_site, path, form):
    before = count(demo_site, "SELECT count(*) FROM pak_entries")
    for token in (None, "forged"):
        data = dict(form, **({"csrf": token} if token else {}))
        response = client.post(path, data=data)
        assert response.status_code == 403 and "CSRF" in shown(response)
    assert count(demo_site, "SELECT count(*) FROM pak_entries") == before


def test_access_log_entry_through_the_form(client, demo_site):
    token = csrf_of(client)
    form = {
        "csrf": token,
        "action": "performance_check",
        "rooms": "Auditorium 0001",
        "start": "08:10",
        "end": "08:20",
        "performed_by": "technician",
        "responsible": "head",
        "note": "from the console",
    }
    response = client.post("/pak/add", data=form)
    assert response.status_code == 200  # redirected to the journal
    assert "from the console" in shown(response)
    from ppe_tech.pak.journal import list_entries
    from ppe_tech.store import connect

    row = list_entries(connect(demo_site.db_path))[-1]
    assert (row["rooms"], row["start"], row["end"], row["note"]) == (
        "Auditorium 0001",
        "08:10",
        "08:20",
        "from the console",
    )
    assert "chain intact" in shown(response)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"action": "dancing", "rooms": "Staff room"}, "unknown action 'dancing'"),
        ({"action": "performance_check", "rooms": ""}, "say which room"),
        ({"action": "other", "rooms": "Staff room"}, "action 'other' needs a note"),
        ({"action": "export", "rooms": "Staff room", "start": "25:99"}, "is not a time"),
        (
            {"action": "export", "rooms": "Staff room", "start": "10:00", "end": "09:00"},
            "is before the start",
        ),
        (
            {"action": "export", "rooms": "Staff room", "performed_by": "janitor"},
            "unknown staff role 'janitor'",
        ),
        ({"action": "export", "rooms": "Staff room", "date": "someday"}, "is not a date"),
        ({"action": "export", "rooms": "Staff\x01room"}, "control characters"),
    ],
)
def test_bad_access_log_input_one_message_nothing_written(client, demo_site, form, message):
    before = count(demo_site, "SELECT count(*) FROM pak_entries")
    response = client.post("/pak/add", data={"csrf": csrf_of(client), **form})
    assert response.status_code == 400
    errors = response.text.count('class="error" role="alert"')
    assert errors == 1 and message in shown(response)
    assert count(demo_site, "SELECT count(*) FROM pak_entries") == before


def test_start_and_end_an_action(client, demo_site):
    token = csrf_of(client)
    client.post(
        "/pak/start",
        data={
            "csrf": token,
            "action": "card_removal",
            "rooms": "Auditorium 0001",
            "start": "07:00",
        },
    )
    page = client.get("/pak").text
    assert "Незавершённые действия" in page
    seq = count(demo_site, "SELECT max(seq) FROM pak_entries")
    bad = client.post("/pak/end", data={"csrf": token, "start_seq": "1"})
    assert bad.status_code == 400 and "is not the start of an action" in shown(bad)
    assert client.post("/pak/end", data={"csrf": token, "start_seq": ""}).status_code == 400
    assert count(demo_site, "SELECT max(seq) FROM pak_entries") == seq
    done = client.post("/pak/end", data={"csrf": token, "start_seq": str(seq), "at": "07:05"})
    assert (
        done.status_code == 200
        and count(demo_site, f"SELECT count(*) FROM pak_entries WHERE end_of = {seq}") == 1
    )


def test_checkpoint_from_the_page(client, demo_site):
    before = count(demo_site, "SELECT count(*) FROM pak_checkpoints")
    assert client.post("/pak/checkpoint", data={"csrf": csrf_of(client)}).status_code == 200
    assert count(demo_site, "SELECT count(*) FROM pak_checkpoints") == before + 1


def test_checkpoint_without_the_passphrase_is_one_clear_line(client, demo_site, monkeypatch):
    monkeypatch.delenv("PPE_KEY_PASSPHRASE")
    before = count(demo_site, "SELECT count(*) FROM pak_checkpoints")
    response = client.post("/pak/checkpoint", data={"csrf": csrf_of(client)})
    assert response.status_code == 400 and "PPE_KEY_PASSPHRASE" in shown(response)
    assert count(demo_site, "SELECT count(*) FROM pak_checkpoints") == before


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"kind": "poster"}, "unknown report kind 'poster'"),
        ({"kind": "readiness", "exam": "no-such-exam"}, "unknown exam 'no-such-exam'"),
    ],
)
def test_bad_report_input(client, demo_site, form, message):
    before = count(demo_site, "SELECT count(*) FROM reports")
    response = client.post("/reports/make", data={"csrf": csrf_of(client), **form})
    assert response.status_code == 400 and message in shown(response)
    assert count(demo_site, "SELECT count(*) FROM reports") == before


def test_reports_verify_download_and_make(client, demo_site):
    from ppe_tech.reports.core import list_reports
    from ppe_tech.store import connect

    number = list_reports(connect(demo_site.db_path))[0]["number"]
    token = csrf_of(client)
    checked = client.post("/reports/verify", data={"csrf": token, "number": number})
    assert checked.status_code == 200 and "подпись верна" in shown(checked)
    pdf = client.get(f"/reports/file/{number}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    for bad in ("..%2Fppe.yaml", "1", "nope"):
        assert client.get(f"/reports/file/{bad}").status_code in (400, 404)
    assert (
        client.post("/reports/verify", data={"csrf": token, "number": "../ppe.yaml"}).status_code
        == 400
    )
    before = count(demo_site, "SELECT count(*) FROM reports")
    made = client.post("/reports/make", data={"csrf": token, "kind": "access-log", "lang": "en"})
    assert made.status_code == 200
    assert count(demo_site, "SELECT count(*) FROM reports") == before + 1


MINI = """\
title: {ru: "Мини", en: "Mini"}
sections:
  - id: s
    title: {ru: "Раздел", en: "Section"}
    items:
      - id: site-file
        title: {ru: "Файл", en: "File"}
        probe: {type: file, path: "{{ site.folder }}/ppe.yaml"}
      - id: seals
        title: {ru: "Пломбы", en: "Seals"}
        manual: {ru: "Пломбы на месте?", en: "Seals in place?"}
      - id: phone
        title: {ru: "Телефон", en: "Phone"}
        manual: {ru: "Телефон работает?", en: "Phone works?"}
"""


def test_checklist_run_with_manual_answers_from_the_page(client, demo_site, demo_dir):
    import time

    (demo_dir / "checklists").mkdir(exist_ok=True)
    (demo_dir / "checklists" / "mini.yaml").write_text(MINI)
    token = csrf_of(client)
    started = client.post("/checklist/start", data={"csrf": token, "checklist": "mini"})
    assert started.status_code == 200 and "seals" in shown(started)
    run_url = str(started.url.path)
    bad = client.post(
        f"{run_url}/answer", data={"csrf": token, "item": "site-file", "answer": "yes"}
    )
    assert bad.status_code == 400 and "is not a manual item" in shown(bad)
    bad = client.post(f"{run_url}/answer", data={"csrf": token, "item": "seals", "answer": "maybe"})
    assert bad.status_code == 400 and "is not one of yes, no, skip" in shown(bad)
    client.post(
        f"{run_url}/answer",
        data={"csrf": token, "item": "seals", "answer": "yes", "comment": "all 4"},
    )
    client.post(
        f"{run_url}/answer",
        data={"csrf": token, "item": "phone", "answer": "no", "comment": "no tone"},
    )
    deadline = time.monotonic() + 20
    while 'id="stored"' not in (page := client.get(run_url).text):
        assert time.monotonic() < deadline, page
        time.sleep(0.2)
    from ppe_tech.checklist.results import load_run
    from ppe_tech.store import connect

    run = load_run(connect(demo_site.db_path), "latest").to_json()
    answers = {r["item_id"]: (r["status"], r["comment"], r["answered_by"]) for r in run["results"]}
    assert answers["seals"][:2] == ("pass", "all 4") and answers["phone"][:2] == ("fail", "no tone")
    assert answers["site-file"][0] == "pass"
    assert "Иванов И.И." in answers["seals"][2]  # who answered, as the CLI stores it


def test_checklist_refuses_a_path_or_unknown_name(client, demo_site):
    before = count(demo_site, "SELECT count(*) FROM check_runs")
    for name in ("../../ppe", "/etc/passwd.yaml", "nope"):
        response = client.post(
            "/checklist/start", data={"csrf": csrf_of(client), "checklist": name}
        )
        assert response.status_code == 400 and "unknown checklist" in shown(response)
    assert client.get("/checklist/run/99").status_code == 400
    assert count(demo_site, "SELECT count(*) FROM check_runs") == before


def test_event_stream_delivers_alerts(client):
    hub = client.app.state.console.hub
    first = hub.publish("gap", "corridor-1: gap of 600s")
    client.get("/")  # a session
    with client.stream("GET", f"/events?after={first.id - 1}&max=1") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        body = "".join(stream.iter_text())
    event = [line for line in body.splitlines() if line.startswith("data: ")][0]
    assert json.loads(event[6:])["message"] == "corridor-1: gap of 600s"
    assert "event: alert" in body


def test_secrets_never_reach_a_page(demo_site, demo_dir, monkeypatch):
    import yaml

    from ppe_tech.site import load_site

    monkeypatch.setenv("CAM_PASSWORD", "s3cr3t-Pa55")
    config = yaml.safe_load((demo_dir / "ppe.yaml").read_text())
    config["cameras"][0]["source"] = "rtsp://viewer:${CAM_PASSWORD}@127.0.0.1:9/stream"
    (demo_dir / "ppe.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    client = make_client(load_site(demo_dir))
    client.app.state.console.hub.publish(
        "camera_offline", "cannot open rtsp://viewer:s3cr3t-Pa55@127.0.0.1:9/stream"
    )
    for path in PAGES:
        assert "s3cr3t-Pa55" not in client.get(path).text, path
    with client.stream("GET", "/events?after=0&max=1") as stream:
        assert "s3cr3t-Pa55" not in "".join(stream.iter_text())
