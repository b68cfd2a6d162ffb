"""--lan: login (passphrase or one-time code), expiring sessions, CSRF, throttling, certificate."""

from __future__ import annotations

import re
import stat
import time

import pytest
from starlette.testclient import TestClient

CODE = "ab12-cd34-ef56"


def lan_client(site, **settings):
    from ppe_tech.console.app import Settings, create_app

    options = {"check_every": 0, "watch": False, "lan": True, "one_time_code": CODE, **settings}
    app = create_app(site, Settings(**options), background=False)
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def token(client) -> str:
    page = client.get("/login").text
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def log_in(client, secret: str):
    return client.post("/login", data={"csrf": token(client), "secret": secret})


def test_nothing_without_login(demo_site):
    client = lan_client(demo_site)
    for path in ("/", "/cameras", "/pak", "/reports", "/snapshot/aud-0001-a", "/reports/file/x"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/login", path
        assert not response.content.startswith(b"\xff\xd8")
    assert client.get("/events").status_code == 401
    response = client.post(
        "/pak/add", data={"csrf": token(client), "action": "export", "rooms": "x"}
    )
    assert response.status_code == 401


def test_one_time_code_works_once_and_renews_the_session(demo_site):
    client = lan_client(demo_site)
    client.get("/login")
    before = client.cookies.get("ppe_console")
    response = log_in(client, CODE)
    assert response.status_code == 303 and response.headers["location"] == "/"
    after = client.cookies.get("ppe_console")
    assert after and after != before  # a new session: a cookie seen before login is worth nothing
    assert (
        "Secure" in response.headers["set-cookie"] and "HttpOnly" in response.headers["set-cookie"]
    )
    assert client.get("/").status_code == 200
    client.cookies.clear()
    again = log_in(client, CODE)
    assert again.status_code == 400 and "wrong passphrase or code" in again.text


def test_passphrase_login_and_csrf_on_forms(demo_site):
    client = lan_client(demo_site)
    assert log_in(client, "demo").status_code == 303
    assert client.post("/pak/checkpoint").status_code == 403
    assert client.post("/pak/checkpoint", data={"csrf": "guess"}).status_code == 403
    page = client.get("/pak").text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert client.post("/pak/checkpoint", data={"csrf": csrf}).status_code == 303
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    assert client.get("/").status_code == 303  # logged out


def test_logins_are_throttled(demo_site):
    client = lan_client(demo_site)
    for _ in range(5):
        assert log_in(client, "wrong").status_code == 400
    blocked = log_in(client, "demo")
    assert blocked.status_code == 400 and "too many failed logins" in blocked.text
    assert client.get("/").status_code == 303


def test_sessions_expire(demo_site):
    client = lan_client(demo_site, session_ttl=1.0)
    assert log_in(client, CODE).status_code == 303
    assert client.get("/").status_code == 200
    time.sleep(1.5)
    assert client.get("/").status_code == 303


def test_console_certificate_is_issued_by_the_site_root(demo_site):
    from cryptography import x509

    from ppe_tech.console.security import console_certificate
    from ppe_tech.keys import site_certificate

    cert_file, key_file = console_certificate(demo_site, ["127.0.0.1", "localhost"])
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    cert.verify_directly_issued_by(site_certificate(demo_site))
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" not in cert_file.read_bytes()
    again, _ = console_certificate(demo_site, ["127.0.0.1"])
    assert (
        again.read_bytes() == cert_file.read_bytes()
    )  # kept: a station enrolled with it still trusts it


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--host", "0.0.0.0"], "plain HTTP is served on 127.0.0.1 only"),
        (["serve", "--check-every", "soon"], "--check-every"),
        (["serve", "--stale-after", "-"], "--stale-after"),
    ],
)
def test_serve_refuses_bad_options(cli, demo_dir, args, message):
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith("ppe-tech: error: ") and message in result.stderr
    assert "Traceback" not in result.stderr
