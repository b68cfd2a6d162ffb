"""Shared fixtures: every test gets its own site folder; real footage is copied, never used in place."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("PPE_FIXTURES", REPO.parent / "shared" / "fixtures"))
VTEST = FIXTURES / "vtest.avi"


def minimal_config(**overrides) -> dict:
    config = {
        "point": {
            "code": "0101",
            "name": "School No. 5",
            "address": "1 Lenina St.",
            "region": "77",
            "timezone": "Europe/Moscow",
            "language": "en",
        },
        "staff": {
            "technician": {"name": "Ivanov I.I.", "position": "technical specialist"},
            "head": {"name": "Petrov A.A.", "position": "head of the exam point"},
            "commission": {"name": "Sidorova S.S.", "position": "member of the commission"},
        },
        "exams": [
            {
                "id": "2026-05-28-math",
                "subject": "Mathematics",
                "date": "2026-05-28",
                "start": "10:00",
                "duration": "3h55m",
            }
        ],
        "cameras": [],
    }
    config.update(overrides)
    return config


def write_site(folder: Path, config: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ppe.yaml").write_text(
        yaml.safe_dump(config or minimal_config(), allow_unicode=True, sort_keys=False)
    )
    return folder


@pytest.fixture(autouse=True)
def site_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh minimal site for every test, found through PPE_SITE (no test touches the cwd's)."""
    folder = write_site(tmp_path / "site")
    monkeypatch.setenv("PPE_SITE", str(folder))
    return folder


@pytest.fixture
def vtest(tmp_path: Path) -> Path:
    """A private copy of the real CCTV clip (768x576, 10 fps, 79.5 s)."""
    if not VTEST.is_file():
        pytest.skip(f"fixture footage {VTEST} not found (set PPE_FIXTURES)")
    copy = tmp_path / "vtest.avi"
    shutil.copyfile(VTEST, copy)
    return copy


@pytest.fixture
def cli():
    """Invoke ppe-tech in-process: cli("check", "run", ...) -> click Result (stderr kept apart)."""
    from ppe_tech.cli import cli as root

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(root, list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.fixture(scope="session")
def hung_port() -> int:
    """A TCP port that accepts connections and never answers (a hung camera or server)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


@pytest.fixture
def refused_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
