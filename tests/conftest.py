"""Shared fixtures: every test gets its own site folder; real footage is copied, never used in place."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("PPE_FIXTURES", REPO.parent / "shared" / "fixtures"))
VTEST = FIXTURES / "vtest.avi"


@contextlib.contextmanager
def tmpfs_at(folder: Path, size: str):
    """A fresh tmpfs of ``size`` (``"12m"``) mounted on ``folder`` (made if missing),
    unmounted afterwards; the test is skipped where this machine does not allow mounting."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


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


@pytest.fixture(autouse=True)
def english_to_begin_with() -> None:
    """Every test starts in the default language: the language is the process's, and an earlier
    in-process command on a Russian site would leave Russian behind for the next test."""
    from ppe_tech.i18n import set_language

    set_language("en")


@pytest.fixture
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run speaks English on a Russian point too (the test reads English words; the
    Russian wording is tested in the test_*_in_russian files)."""
    monkeypatch.setenv("PPE_LANG", "en")


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


# -- the command line in Russian (issue 15): the demo point, commands run on it, English left -----

# Latin on paper too: units, formats and protocols a Russian form writes in Latin letters
LATIN_ON_PAPER = {
    *"B KiB MiB GiB TiB KB MB GB TB fps ms px MSK UTC PDF PDF/A JSON YAML CSV SHA SHA-256".split(),
    "Ctrl",  # the key is labelled so on a Russian keyboard too (Ctrl-C)
    *"RTSP HTTP HTTPS URL S3 NTP USB ID PKCS PKCS#11 H.264 MP4 JPEG PNG ONVIF ppe-tech".split(),
}
_WORD = re.compile(r"[A-Za-z][A-Za-z'#]*")
# paths, URLs, file names, hex digests, ISO times and option names carry Latin by nature
_NOT_WORDS = re.compile(
    r"\S*[/\\]\S*|\S+\.(?:pdf|yaml|yml|json|jsonl|txt|pem|mp4|avi|jpg|png|csv|db|xml)\b"
    r"|\b[0-9a-f]{8,}\b|\d{4}-\d\d-\d\dT[\d:.]+Z?|(?<!\S)--?[a-z][a-z-]*|\$\{?[A-Z_]+\}?|\S+=\S*"
    r"|ppe-tech(?: --site \S+)?(?: [a-z][a-z-]*)*"
)


@pytest.fixture(scope="session")
def demo_ru(tmp_path_factory) -> Path:
    """The demo point (its point.language is ru), made once; tests that change it copy it."""
    from ppe_tech.demo import run_demo

    folder = tmp_path_factory.mktemp("demo-ru") / "site"
    os.environ.setdefault("PPE_KEY_PASSPHRASE", "demo")
    run_demo(folder, lambda line: None)
    return folder


def ru_run(
    site: Path, *args: str, input: str | None = None, columns: int = 200, timeout: float = 300
):
    """``ppe-tech --site SITE ARGS`` in a fresh process, in Russian (wide: no cell is wrapped, so
    a name is never cut in two; the 80-column layout has tests of its own)."""
    env = {**os.environ, "PPE_LANG": "ru", "COLUMNS": str(columns), "PPE_KEY_PASSPHRASE": "demo"}
    env.pop("PPE_SITE", None)
    return subprocess.run(
        [sys.executable, "-m", "ppe_tech", "--site", str(site), *args],
        input=input,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


_NAMING_KEYS = {"id", "name", "subject", "room", "number", "host", "address", "position", "url"}


def site_phrases(site: Path) -> list[str]:
    """What the point itself wrote and output may quote: ids and names of ppe.yaml and of the
    checklists (never codes like a zone or a role, which the output must translate)."""
    found: set[str] = set()

    def collect(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _NAMING_KEYS and isinstance(value, str | int):
                    found.add(str(value))
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(yaml.safe_load((site / "ppe.yaml").read_text(encoding="utf-8")))
    for checklist in (*site.glob("checklists/*.yaml"), *(REPO / "checklists").glob("*.yaml")):
        collect(yaml.safe_load(checklist.read_text(encoding="utf-8")))
        found.add(checklist.stem)
    return sorted(found, key=len, reverse=True)


def english_left(text: str, site: Path) -> list[str]:
    """The English words in ``text`` outside paths, commands, the point's own ids and names, and
    units (each a test failure: the command line should have said it in Russian)."""
    text = _NOT_WORDS.sub(" ", text)
    for phrase in site_phrases(site):
        text = text.replace(phrase, " ")
    found = _WORD.findall(text)
    return sorted({w for w in found if w not in LATIN_ON_PAPER and len(w) > 1})


def one_error_line(result, code: int, *needles: str) -> str:
    """The refusal is one English line ``ppe-tech: error: ...`` holding every needle, exit ``code``
    (a click Result or a CompletedProcess; the run must be in English: PPE_LANG=en)."""
    exit_code = getattr(result, "exit_code", getattr(result, "returncode", None))
    assert exit_code == code, (exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ppe-tech: error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
