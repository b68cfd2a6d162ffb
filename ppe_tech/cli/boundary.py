"""Failures that reach the CLI boundary from below the library, turned into one-line errors.

The library raises ``PpeError``; what else can escape a command is the machine failing:
the store (SQLite: locked, full, damaged), the output (a closed pipe, a full device) or
another OSError. These are not bugs, so they get their documented exit code, not 70.
"""

from __future__ import annotations

import errno
import os
import sys

from ppe_tech.errors import NoSpaceError, PpeError, StorageError
from ppe_tech.i18n import _


def output_error(exc: OSError) -> PpeError:
    """A write that failed: the output closed, the device full, or another OS error."""
    if isinstance(exc, BrokenPipeError):
        silence_stdout()
        return StorageError(_("the output was closed before everything was written (broken pipe)"))
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        silence_stdout()
        return NoSpaceError(_("cannot write the output: no space left on the device"))
    where = f": {exc.filename}" if exc.filename else ""
    return StorageError(f"{exc.strerror or exc}{where}")


def silence_stdout() -> None:
    """Point stdout at the null device, so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def flush_stdout() -> PpeError | None:
    """Flush stdout at exit; the error a closed pipe or a full device makes, if any."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        return output_error(exc)
    return None
