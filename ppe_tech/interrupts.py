"""SIGTERM handled like Ctrl-C: every long command stops the same way, and says which it was.

A service manager, ``timeout`` or a shutdown sends SIGTERM, not SIGINT. ``install`` turns it
into ``Terminated``, a KeyboardInterrupt, so each command's Ctrl-C path (store what is done,
kill the children, exit) runs for both; the exit code is 130 for Ctrl-C and 143 for SIGTERM.
"""

from __future__ import annotations

import signal
import threading

from ppe_tech.errors import ExitCode

TERMINATED = 143  # 128 + SIGTERM, the shell's convention (not an ExitCode: no error, a stop)
_terminated = threading.Event()


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM."""


def _on_sigterm(signum, frame) -> None:
    _terminated.set()
    raise Terminated()


def install() -> None:
    """Route SIGTERM to ``Terminated`` (only the main thread may set signal handlers)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)


def exit_code() -> int:
    """143 after SIGTERM, else 130 (Ctrl-C)."""
    return TERMINATED if _terminated.is_set() else int(ExitCode.INTERRUPTED)
