"""Rooms page, stations confirmed by hand from the page, station results over the network."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.console.conftest import LiveServer, csrf_of, make_client
from tests.stations.made_results import item, result


@pytest.fixture
def point(demo_site):
    """The demo point: its rooms and stations, print-0003 in auditorium 0003 never checked."""
    return demo_site


def stored_runs(site):
    from ppe_tech.stations.results import list_station_runs
    from ppe_tech.store import connect

    return list_station_runs(connect(site.db_path))


def signed_result(
    site, tmp_path: Path, station: str = "print-0003", room: str = "0003", status: str = "pass"
) -> bytes:
    """A result file as ``station run`` writes it, signed with a key enrolled on this site."""
    from ppe_tech.stations.resultfile import build_result
    from ppe_tech.stations.signing import enroll, load_signing_key
    from ppe_tech.timeutil import utc_now

    exam = site.select_exam(None, utc_now())
    enrolment = enroll(site, exam, tmp_path / f"stick-{station}")
    made = result(
        station,
        room,
        "print",
        exam=exam.id,
        at=utc_now().isoformat(),
        items=(item("station-clock", status),),
    )
    made = replace(made, point_code=site.config.point.code)
    return build_result(
        made, load_signing_key(site, enrolment.stick_site / "keys" / "station-signing.json")
    )


def test_rooms_page_and_overview_show_unchecked_stations(point):
    client = make_client(point)
    page = html.unescape(client.get("/rooms?lang=en").text)
    assert 'id="station-print-0003"' in page and "never checked" in page
    assert "print station print-0003 never checked" in page
    assert "camera aud-0002-a fail (covered)" in page
    assert "confirmed by hand" in page  # the demo's auth-backup
    overview = html.unescape(client.get("/").text)
    assert "print station print-0003 never checked" in overview


def test_confirm_a_station_by_hand_from_the_page(point):
    from ppe_tech.stations.results import HOW_HAND

    client = make_client(point)
    form = client.get("/rooms/confirm/print-0003?lang=en")
    assert form.status_code == 200 and "answer-station-clock" in form.text
    names = sorted(set(re.findall(r'name="(answer-[^"]+)"', form.text)))
    token = csrf_of(client)
    bad = client.post("/rooms/confirm/print-0003", data={"csrf": token, names[0]: "maybe"})
    assert bad.status_code == 400 and "is not one of yes, no, skip" in html.unescape(bad.text)
    unknown = client.post(
        "/rooms/confirm/print-0003", data={"csrf": token, "answer-no-such-item": "yes"}
    )
    assert unknown.status_code == 400 and "no-such-item" in html.unescape(unknown.text)
    assert client.get("/rooms/confirm/nope").status_code == 400
    before = len(stored_runs(point))
    answers = {name: "yes" for name in names}
    done = client.post(
        "/rooms/confirm/print-0003",
        data={"csrf": token, **answers, "comment-station-clock": "checked by phone"},
    )
    assert done.status_code == 200
    assert len(stored_runs(point)) == before + 1
    run = stored_runs(point)[-1]
    assert (run.station_id, run.how, run.status) == ("print-0003", HOW_HAND, "passed")
    assert "Иванов И.И." in run.confirmed_by
    clock = [i for i in run.items if i.item_id == "station-clock"][0]
    assert clock.comment == "checked by phone" and clock.status == "pass"
    row = client.get("/rooms?lang=en").text.split('id="station-print-0003"')[1].split("</tr>")[0]
    assert "confirmed by hand" in row


def test_station_result_posted_is_verified_like_station_import(point, tmp_path):
    client = make_client(point)
    before = len(stored_runs(point))
    data = signed_result(point, tmp_path)
    first = client.post("/stations/result", content=data)
    assert first.status_code == 200 and first.json()["status"] == "imported"
    again = client.post("/stations/result", content=data)
    assert again.json() == {"status": "already", "run_id": first.json()["run_id"]}
    row = client.get("/rooms?lang=en").text.split('id="station-print-0003"')[1].split("</tr>")[0]
    assert "st-passed" in row
    tampered = data.replace(b'"pass"', b'"fail"', 1)
    refused = client.post("/stations/result", content=tampered)
    assert (
        refused.status_code == 400
        and "changed after the station wrote it" in refused.json()["error"]
    )
    assert client.post("/stations/result", content=b"not json").status_code == 400
    assert len(stored_runs(point)) == before + 1


def test_failed_station_result_raises_an_alert(point, tmp_path):
    client = make_client(point)
    answer = client.post("/stations/result", content=signed_result(point, tmp_path, status="fail"))
    assert answer.json()["passed"] is False
    alerts = [a for a in client.app.state.console.hub.since(0) if a.kind == "station_failed"]
    assert alerts and "print-0003" in alerts[0].message


def run_station(stick_site: Path, url: str) -> subprocess.CompletedProcess:
    # in English whatever the point's language: the test reads the words
    env = {**os.environ, "PPE_SITE": str(stick_site), "PPE_LANG": "en"}
    argv = [
        sys.executable,
        "-m",
        "ppe_tech",
        "station",
        "run",
        "--station",
        "print-0003",
        "--out",
        str(stick_site.parent / "results"),
        "--send",
        url,
        "--no-input",
    ]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=180)


def test_station_run_send_over_https_trusts_only_the_enrolled_console(point, tmp_path):
    from ppe_tech.console.security import console_certificate
    from ppe_tech.stations.signing import enroll
    from ppe_tech.timeutil import utc_now

    tls = console_certificate(point, ["127.0.0.1"])
    enrolment = enroll(point, point.select_exam(None, utc_now()), tmp_path / "stick")
    assert (enrolment.stick_site / "keys" / "console.cert.pem").read_bytes() == tls[0].read_bytes()
    before = len(stored_runs(point))
    with LiveServer(point, tls=tls, watch=False, lan=True) as server:
        done = run_station(enrolment.stick_site, server.url)
        assert "sent to the console: imported" in done.stderr, done.stderr[-2000:]
        assert "Traceback" not in done.stderr
        assert len(stored_runs(point)) == before + 1
        run = stored_runs(point)[-1]
        assert run.station_id == "print-0003" and run.source.startswith("network")
        # a stick enrolled with another console's certificate (same host name) refuses this one
        from cryptography.hazmat.primitives.asymmetric import ec

        from ppe_tech.console.security import _issue

        ca_key = ec.generate_private_key(ec.SECP256R1())
        other_console, _ = _issue(ca_key, _self_signed(ca_key), ["127.0.0.1"])
        (enrolment.stick_site / "keys" / "console.cert.pem").write_bytes(other_console)
        refused = run_station(enrolment.stick_site, server.url)
        assert refused.returncode == 5, refused.stderr
        assert refused.stderr.strip().splitlines()[-1].startswith("ppe-tech: error: ")
        assert "not the console enrolled on this stick" in refused.stderr
        assert len(stored_runs(point)) == before + 1


def _self_signed(key):
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "someone else")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
