"""Child processes of probes: own process group, output read with a bound, killed with the run.

``subprocess.run(capture_output=True)`` keeps all output in memory (a 2 GB answer took 32 s
past a 20 s timeout) and kills only the direct child on a timeout, so a ``sleep`` the child
started lives on with parent 1. Here each child leads its own process group (POSIX: a new
session; Windows: ``CREATE_NEW_PROCESS_GROUP``, and psutil for the tree), its output is read
by two threads that keep at most ``max_output`` bytes each and drain the rest, and the whole
group is killed when the child ends, times out, or the run stops (``kill_all``).
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass

MAX_OUTPUT = 1024**2  # bytes kept per stream; more is read and dropped
_live: set[subprocess.Popen] = set()
_live_lock = threading.Lock()


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str
    truncated: bool  # some output past max_output was dropped


class _Reader(threading.Thread):
    """Reads a pipe to its end, keeping the first ``limit`` bytes."""

    def __init__(self, pipe: io.BufferedReader, limit: int):
        super().__init__(daemon=True)
        self.pipe, self.limit = pipe, limit
        self.kept = bytearray()
        self.dropped = 0

    def run(self) -> None:
        try:
            for block in iter(lambda: self.pipe.read1(1 << 16), b""):
                room = self.limit - len(self.kept)
                self.kept += block[:room] if room > 0 else b""
                self.dropped += max(0, len(block) - max(room, 0))
        except (OSError, ValueError):  # the pipe was closed under us: the run is over
            pass

    def text(self) -> str:
        return self.kept.decode(console_encoding(), errors="replace")


def console_encoding() -> str:
    """The encoding console programs write in: the OEM code page on Windows (cp866 for
    Russian), not the ANSI one Python would assume there; UTF-8 elsewhere."""
    if sys.platform == "win32":
        import ctypes

        return f"cp{ctypes.windll.kernel32.GetOEMCP()}"
    return "utf-8"


def _group_options() -> dict:
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def kill_tree(proc: subprocess.Popen) -> None:
    """Kill ``proc`` and everything it started (its process group; on Windows its tree)."""
    if sys.platform != "win32":
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the group outlives its leader while members run
        except (ProcessLookupError, PermissionError):
            pass
        return
    import psutil

    try:
        family = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        family = []
    for member in family:
        try:
            member.kill()
        except psutil.Error:
            pass
    if proc.poll() is None:
        proc.kill()


def kill_all() -> None:
    """Kill every child still running (the run ended or was interrupted)."""
    with _live_lock:
        running = list(_live)
    for proc in running:
        kill_tree(proc)


def run_bounded(argv: list[str], *, timeout: float, max_output: int = MAX_OUTPUT) -> Finished:
    """Run argv (never through a shell); TimeoutExpired after ``timeout`` s, the group killed."""
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **_group_options(),
    )
    with _live_lock:
        _live.add(proc)
    readers = [_Reader(proc.stdout, max_output), _Reader(proc.stderr, max_output)]  # type: ignore[arg-type]
    for reader in readers:
        reader.start()
    try:
        returncode = proc.wait(timeout)
    finally:
        kill_tree(proc)  # on success too: what it left running in its group dies with it
        proc.wait()
        with _live_lock:
            _live.discard(proc)
        for reader in readers:
            reader.join(timeout=1)  # a grandchild in another group may hold the pipe: go on
    out, err = readers
    return Finished(returncode, out.text(), err.text(), bool(out.dropped or err.dropped))
