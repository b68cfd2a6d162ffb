"""Shared helpers for the attack tests (issue 10): ppe-tech as a real subprocess, strict checks.

Every attack test runs the real command in its own process (signals, pipes, special files and
time bounds only mean something there), then asserts:
- the exit code, and that stderr carries exactly one ``ppe-tech: error: ...`` line, no traceback
  (``assert_one_line_error``);
- that the command ended within a generous, stated bound of seconds (``run_ppe(timeout=...)``
  fails the test, after killing the whole process group, when it did not);
- that nothing leaked: the secret is nowhere in the outputs, the store (with its WAL), any file
  of the site folder, or the decompressed streams of any PDF (``assert_not_leaked``).

Use from another helper's test file: ``from tests.attack.conftest import run_ppe, ...`` or just
the ``ppe`` fixture, which runs against the test's site folder.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
POSIX = os.name == "posix"


@dataclass
class Ran:
    """One finished ppe-tech process."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:  # what pytest shows when an assertion on it fails
        return (
            f"ppe-tech {' '.join(self.args)} -> {self.returncode} in {self.seconds:.1f}s\n"
            f"--- stdout ---\n{self.stdout[-3000:]}\n--- stderr ---\n{self.stderr[-3000:]}"
        )


def ppe_command(*args: str, site: Path | None = None) -> list[str]:
    """The argv that runs ppe-tech from this checkout with this interpreter."""
    site_args = ["--site", str(site)] if site is not None else []
    return [sys.executable, "-m", "ppe_tech", *site_args, *map(str, args)]


def ppe_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    # English: these tests read the English messages (the demo point they attack is Russian)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "COLUMNS": "200",
        "TERM": "dumb",
        "PPE_LANG": "en",
    }
    env.pop("PPE_SITE", None)
    env.update(extra or {})
    return env


def run_ppe(
    *args: str,
    site: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
    input: str | bytes | None = None,
    cwd: Path | None = None,
) -> Ran:
    """Run ppe-tech to completion; fail the test (killing its process group) past ``timeout`` s."""
    argv = ppe_command(*args, site=site)
    data = input.encode() if isinstance(input, str) else input
    began = time.monotonic()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ppe_env(env),
        cwd=cwd,
        start_new_session=POSIX,
    )
    try:
        out, err = proc.communicate(data, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
        pytest.fail(
            f"ppe-tech {' '.join(args)} did not end within {timeout:g}s\n"
            f"stderr: {err.decode(errors='replace')[-2000:]}"
        )
    seconds = time.monotonic() - began
    return Ran(
        list(map(str, args)),
        proc.returncode,
        out.decode(errors="replace"),
        err.decode(errors="replace"),
        seconds,
    )


def kill_group(proc: subprocess.Popen) -> None:
    """Kill a process started by ``start_ppe``/``run_ppe`` and everything in its group."""
    if POSIX:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    else:
        proc.kill()


def start_ppe(*args: str, site: Path | None = None, env: dict[str, str] | None = None, **popen):
    """Start ppe-tech in the background (own session, so its whole group can be signalled)."""
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    popen.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.Popen(
        ppe_command(*args, site=site), env=ppe_env(env), start_new_session=POSIX, **popen
    )


def assert_one_line_error(ran: Ran, code: int, *, contains: str | None = None) -> str:
    """Exit ``code``; stderr holds one ``ppe-tech: error:`` line (others may be warnings), no traceback.

    Returns the error line so a test can check more of it.
    """
    assert ran.returncode == code, str(ran)
    assert "Traceback" not in ran.output, str(ran)
    assert "internal error" not in ran.stderr, str(ran)
    errors = [line for line in ran.stderr.splitlines() if line.startswith("ppe-tech: error:")]
    assert len(errors) == 1, str(ran)
    if contains is not None:
        assert contains.lower() in errors[0].lower(), str(ran)
    return errors[0]


def assert_clean_exit(ran: Ran, code: int) -> None:
    """Exit ``code`` with neither a traceback nor an internal error."""
    assert ran.returncode == code, str(ran)
    assert "Traceback" not in ran.output, str(ran)
    assert "internal error" not in ran.stderr, str(ran)


def pdf_texts(data: bytes) -> list[bytes]:
    """The raw bytes of a PDF plus every stream in it, Flate-decompressed where it is compressed."""
    found = [data]
    for match in re.finditer(rb"stream\r?\n", data):
        start = match.end()
        end = data.find(b"endstream", start)
        if end < 0:
            continue
        raw = data[start:end]
        try:
            found.append(zlib.decompressobj().decompress(raw))
        except zlib.error:
            found.append(raw)
    return found


def file_texts(path: Path) -> list[bytes]:
    data = path.read_bytes()
    return pdf_texts(data) if path.suffix.lower() == ".pdf" else [data]


def assert_not_leaked(secret: str, *places: Path | str | Ran) -> None:
    """``secret`` is in no output, no file under the given folders, no PDF stream (decompressed)."""
    needle = secret.encode()
    for place in places:
        if hasattr(place, "returncode"):  # a Ran (duck-typed: conftest may be imported twice)
            assert secret not in place.output, f"secret leaked into the output of {place}"
            continue
        if isinstance(place, str):
            assert secret not in place, "secret leaked into a text"
            continue
        files = [place] if place.is_file() else [p for p in place.rglob("*") if p.is_file()]
        for path in files:
            if path.name == "ppe.yaml":  # the config names ${VAR}, never the value
                continue
            for blob in file_texts(path):
                assert needle not in blob, f"secret leaked into {path}"


@pytest.fixture
def ppe(site_dir: Path):
    """ppe("check", "run", ...) -> Ran: run ppe-tech on this test's site as a real process."""

    def invoke(*args: str, **kwargs) -> Ran:
        kwargs.setdefault("site", site_dir)
        return run_ppe(*args, **kwargs)

    return invoke


DEMO_PASSPHRASE = "demo"


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory) -> Path:
    """One ``ppe-tech demo`` site per session (about 30 s): every job's real results and files."""
    folder = tmp_path_factory.mktemp("demo-master") / "site"
    ran = run_ppe(
        "demo", "--dir", str(folder), env={"PPE_KEY_PASSPHRASE": DEMO_PASSPHRASE}, timeout=300
    )
    assert ran.returncode == 0, str(ran)
    return folder


@pytest.fixture
def demo_site(demo_master: Path, tmp_path: Path) -> Path:
    """A private copy of the session's demo site (without its recordings root) to attack."""
    copy = tmp_path / "demo"
    shutil.copytree(demo_master, copy, symlinks=True, ignore=shutil.ignore_patterns("recordings"))
    return copy


@pytest.fixture
def demo_ppe(demo_site: Path):
    """demo_ppe("pak", "verify") -> Ran on the private demo copy, with the demo passphrase."""

    def invoke(*args: str, **kwargs) -> Ran:
        kwargs.setdefault("site", demo_site)
        kwargs["env"] = {"PPE_KEY_PASSPHRASE": DEMO_PASSPHRASE, **(kwargs.get("env") or {})}
        return run_ppe(*args, **kwargs)

    return invoke


@pytest.fixture(autouse=True)
def english_messages(monkeypatch):
    """The attack tests read the English messages (their sites' points are Russian); the
    Russian ones have tests of their own in each job's folder."""
    monkeypatch.setenv("PPE_LANG", "en")
