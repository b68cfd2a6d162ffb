"""Console fixtures: the demo point made once per session, a private copy per test, servers.

The demo (``run_demo``) is the point the console must show: its covered camera, its
recording gap, its access log with an audit finding. Each test gets a copy of the site
folder whose store is its own; the big, read-only folders (recordings, archive, camera
footage) are shared through symlinks.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

SHARED = ("recordings", "archive", "cameras")


def pytest_configure(config):
    # Starlette 1.x suggests httpx2 for its TestClient; httpx still works and is what we install
    config.addinivalue_line("filterwarnings", "ignore:Using `httpx` with `starlette.testclient`")


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory) -> Path:
    from ppe_tech.demo import run_demo

    folder = tmp_path_factory.mktemp("console-demo") / "demo"
    run_demo(folder, lambda line: None)
    return folder


@pytest.fixture
def demo_dir(demo_master: Path, tmp_path: Path, monkeypatch) -> Path:
    copy = tmp_path / "demo"
    shutil.copytree(demo_master, copy, symlinks=True, ignore=shutil.ignore_patterns(*SHARED))
    for name in SHARED:
        if (demo_master / name).exists():
            os.symlink(demo_master / name, copy / name)
    monkeypatch.setenv("PPE_SITE", str(copy))
    monkeypatch.setenv("PPE_KEY_PASSPHRASE", "demo")
    return copy


@pytest.fixture
def demo_site(demo_dir: Path):
    from ppe_tech.site import load_site

    return load_site(demo_dir)


def make_client(site, **settings):
    from starlette.testclient import TestClient

    from ppe_tech.console.app import Settings, create_app

    options = {"check_every": 0, "watch": False, **settings}
    return TestClient(create_app(site, Settings(**options), background=False))


@pytest.fixture
def client(demo_site):
    return make_client(demo_site)


def csrf_of(client) -> str:
    """The CSRF token of this client's session, as every page carries it."""
    import re

    page = client.get("/").text
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The console on uvicorn in a thread, on a free loopback port."""

    def __init__(self, site, tls: tuple[Path, Path] | None = None, **settings):
        import uvicorn

        from ppe_tech.console.app import Settings, create_app

        self.port = free_port()
        self.app = create_app(site, Settings(**{"check_every": 0, **settings}))
        self.console = self.app.state.console
        extra = {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])} if tls else {}
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", **extra
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the console did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser(demo_master):
    """Debian's chromium through Playwright; skipped with the reason when they do not fit.

    Module-scoped and started after the demo: Playwright's sync API keeps an event loop
    running in the main thread, where ``asyncio.run`` (pyHanko signing) would then fail.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.skip(f"playwright is not installed: {exc}")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/install --test installs it)")
    manager = sync_playwright().start()
    try:
        launched = manager.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    except Exception as exc:  # a chromium this Playwright cannot drive
        manager.stop()
        pytest.skip(f"Playwright cannot drive {CHROMIUM}: {str(exc).splitlines()[0]}")
    yield launched
    launched.close()
    manager.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, ignore_https_errors=False
    )
    yield context.new_page()
    context.close()
