"""Issue 10 item 6: site report templates are data, not code, and cannot pull files into a PDF.

Templates render in jinja2's SandboxedEnvironment; WeasyPrint gets a fetcher serving only the
template and snapshot folders (package and site): another file, a symlink out, or any network
URL stops the report with one line, exit 2, and no PDF is written.
"""

from __future__ import annotations

import http.server
import os
import threading
import time

import pytest

from ppe_tech.errors import ExitCode
from tests.reports.conftest import CAMERAS, EXAM, add_camera_run, add_checklist_run, keyed_site

BOUND_S = 60


@pytest.fixture
def tsite(site_dir, monkeypatch):
    from ppe_tech.store import connect

    site = keyed_site(site_dir, monkeypatch)
    db = connect(site.db_path)
    add_checklist_run(db)
    add_camera_run(site, db, len(CAMERAS))
    db.close()
    (site.folder / "templates").mkdir()
    return site


def _template(site, body: str) -> None:
    (site.folder / "templates" / "readiness.html").write_text(
        f"<html><head><style>{{{{ css }}}}</style></head><body><p>Протокол</p>{body}</body></html>"
    )


def _refused(site, cli, *needles: str):
    started = time.monotonic()
    result = cli("report", "readiness", "--exam", EXAM)
    assert time.monotonic() - started < BOUND_S
    assert result.exit_code == ExitCode.USAGE, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ppe-tech: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert not list((site.folder / "reports").glob("*.pdf"))  # nothing written
    return lines[0]


@pytest.mark.parametrize(
    "code",
    [
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ t.__class__.__init__.__globals__ }}",
    ],
)
def test_template_cannot_run_code(tsite, cli, code):
    _template(tsite, code)
    _refused(tsite, cli, "report template")


@pytest.mark.parametrize(
    "markup",
    [
        '<a rel="attachment" href="file:///etc/passwd">passwd</a>',
        '<img src="file:///etc/hostname">',
        '<link rel="stylesheet" href="file:///etc/passwd">',
    ],
)
def test_template_cannot_pull_local_files(tsite, cli, markup):
    _template(tsite, markup)
    _refused(tsite, cli, "/etc/", "templates and snapshots folders")


def test_symlink_out_of_the_templates_folder_is_refused(tsite, cli):
    os.symlink("/etc/hostname", tsite.folder / "templates" / "logo.png")
    _template(tsite, '<img src="logo.png">')  # relative to the templates folder
    _refused(tsite, cli, "logo.png")


def test_template_cannot_reach_the_network(tsite, cli):
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _template(tsite, f'<img src="http://127.0.0.1:{server.server_port}/track.png">')
        _refused(tsite, cli, "http://127.0.0.1")
    finally:
        server.shutdown()
    assert hits == []


def test_site_template_may_use_its_own_and_the_snapshot_folders(tsite, cli):
    """What stays allowed: files beside the site's templates, and the camera snapshots."""
    from tests.reports.conftest import snapshot_jpegs

    (tsite.folder / "templates" / "logo.jpg").write_bytes(snapshot_jpegs(1)[0])
    (tsite.folder / "snapshots").mkdir(exist_ok=True)
    (tsite.folder / "snapshots" / "cam.jpg").write_bytes(snapshot_jpegs(1)[0])
    snapshot = (tsite.folder / "snapshots" / "cam.jpg").as_uri()
    _template(tsite, f'<img src="logo.jpg"><img src="{snapshot}">')
    result = cli("report", "readiness", "--exam", EXAM)
    assert result.exit_code == 0, result.stderr
