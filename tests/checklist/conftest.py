"""Real counterparts for probes: servers on loopback, a private CUPS scheduler; ppe-tech on a
pseudo-terminal, as the technician sees it."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ppe_tech.checklist.model import load_checklist
from ppe_tech.site import load_site


def write_checklist(folder: Path, name: str, items: list[dict], **extra) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    doc = {
        "title": {"ru": "Тест", "en": "Test"},
        **extra,
        "sections": [{"id": "main", "title": "Main", "items": items}],
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    return path


def read_until(fd: int, marker: str, timeout: float = 20) -> str:
    """What the terminal shows until ``marker`` appears (escape sequences left in)."""
    seen = ""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {marker!r} on the terminal; saw: {seen[-500:]!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                seen += os.read(fd, 4096).decode("utf-8", "replace")
            except OSError:  # the child closed the terminal
                break
    return seen


_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def screen_text(seen: str) -> str:
    """The terminal's text without colours and cursor moves; each redraw of a line after a
    carriage return (a progress bar) on a line of its own."""
    return _ESCAPES.sub("", seen).replace("\r\n", "\n").replace("\r", "\n")


@contextlib.contextmanager
def on_a_terminal(*args: str, env: dict | None = None, columns: int = 160):
    """``ppe-tech ARGS`` with a pseudo-terminal as stdin, stdout and stderr: (controller fd,
    child process)."""
    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "ppe_tech", *args],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
        env={**os.environ, "COLUMNS": str(columns), **(env or {})},
    )
    os.close(terminal)
    try:
        yield controller, child
    finally:
        child.kill()
        child.wait()
        os.close(controller)


@pytest.fixture
def make_checklist(site_dir: Path):
    """make_checklist([items]) -> a loaded Checklist from the site's checklists/ folder."""

    def make(items: list[dict], name: str = "probe-test"):
        write_checklist(site_dir / "checklists", name, items)
        return load_checklist(name, load_site(site_dir))

    return make


@pytest.fixture(scope="session")
def cups_server(tmp_path_factory):
    """A private CUPS scheduler on a Unix socket with one queue, 'testq' (a file:/dev/null device)."""
    cupsd = shutil.which("cupsd") or "/usr/sbin/cupsd"
    if not Path(cupsd).exists() or not shutil.which("lpadmin"):
        pytest.skip("CUPS (cupsd, lpadmin) is not installed: apt-get install cups cups-bsd")
    root = tmp_path_factory.mktemp("cups")
    for sub in ("spool", "cache", "state", "log"):
        (root / sub).mkdir()
    sock = root / "cups.sock"
    (root / "cupsd.conf").write_text(
        f"Listen {sock}\nDefaultAuthType None\nWebInterface No\nLogLevel warn\n"
        "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
    )
    (root / "cups-files.conf").write_text(
        f"ServerRoot {root}\nRequestRoot {root}/spool\nCacheDir {root}/cache\nStateDir {root}/state\n"
        f"AccessLog {root}/log/access_log\nErrorLog {root}/log/error_log\nPageLog {root}/log/page_log\n"
        f"TempDir {root}/spool\nServerBin /usr/lib/cups\nDataDir /usr/share/cups\n"
        "FileDevice Yes\nSandboxing Relaxed\n"
    )
    proc = subprocess.Popen(
        [cupsd, "-f", "-c", str(root / "cupsd.conf"), "-s", str(root / "cups-files.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while not sock.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    if not sock.exists():
        proc.kill()
        pytest.skip(
            f"cupsd could not start here: {proc.stderr.read().decode()[:200] if proc.stderr else ''}"
        )
    made = subprocess.run(
        ["lpadmin", "-h", str(sock), "-p", "testq", "-E", "-v", "file:///dev/null"],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        proc.kill()
        pytest.skip(f"cannot add a CUPS queue here: {made.stderr.strip()}")
    yield str(sock)
    proc.terminate()
    proc.wait(timeout=10)
