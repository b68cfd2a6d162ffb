"""The one family of errors the library raises, and the exit codes the CLI maps them to.

Every ``PpeError`` carries a message meant for the user: the CLI prints it as one
line on stderr and exits with ``error.exit_code``. Anything else is a bug and is
reported as INTERNAL (with a traceback only under ``--debug``).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of ``ppe-tech``; the README documents this table."""

    OK = 0  # everything checked passed
    FAILED = 1  # something checked failed: a critical item, a camera, a verification, an audit
    USAGE = 2  # bad arguments or configuration (ppe.yaml, checklists, answers)
    IO = 3  # a file or device could not be read or written
    NO_SPACE = 4  # not enough free space on the destination
    KEYS = 5  # key, certificate or passphrase problem
    WARNING = 6  # nothing failed, but something could not be judged (this machine was too busy)
    INTERNAL = 70  # a bug in ppe-tech (run with --debug for the traceback)
    INTERRUPTED = 130  # Ctrl-C / SIGTERM


class PpeError(Exception):
    """Base of all user-facing errors."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str, *, exit_code: ExitCode | None = None):
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class ConfigError(PpeError):
    """ppe.yaml, a checklist, an answers file or an argument is wrong."""

    exit_code = ExitCode.USAGE


class StorageError(PpeError):
    """A file, folder or device could not be read or written."""

    exit_code = ExitCode.IO


class NoSpaceError(StorageError):
    """The destination has too little free space."""

    exit_code = ExitCode.NO_SPACE


class KeysError(PpeError):
    """A key, certificate or passphrase problem."""

    exit_code = ExitCode.KEYS


class VerificationFailed(PpeError):
    """Something was checked and found wrong (tampered log, broken signature, bad bag)."""

    exit_code = ExitCode.FAILED
