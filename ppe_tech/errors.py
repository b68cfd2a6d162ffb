"""The one family of errors the library raises, and the exit codes the CLI maps them to.

Every ``PpeError`` carries a message meant for the user: the CLI prints it as one
line on stderr and exits with ``error.exit_code``. Anything else is a bug and is
reported as INTERNAL (with a traceback only under ``--debug``).
"""

from __future__ import annotations

from enum import IntEnum

from ppe_tech.i18n import N_, _


class ExitCode(IntEnum):
    """Exit codes of ``ppe-tech``; ``MEANINGS`` says what each means (README's table)."""

    OK = 0
    FAILED = 1
    USAGE = 2
    IO = 3
    NO_SPACE = 4
    KEYS = 5
    WARNING = 6
    INTERNAL = 70
    INTERRUPTED = 130


# The one table of exit codes: (a few words for --help, translated there; the sentence for the
# README). tests/foundation/test_docs.py fails when README.md's "Exit codes" table is not
# exit_code_table().
MEANINGS: dict[ExitCode, tuple[str, str]] = {
    ExitCode.OK: (N_("ok"), "everything checked passed"),
    ExitCode.FAILED: (
        N_("something checked failed"),
        "something checked failed: a critical checklist item, a camera, a bag, a signature, "
        "the log chain, a high-severity audit finding",
    ),
    ExitCode.USAGE: (
        N_("usage or config error"),
        "usage or configuration error (ppe.yaml, checklists, answers files, arguments)",
    ),
    ExitCode.IO: (
        N_("file or device error"),
        "a file, folder, device or the store could not be read or written (the store damaged or "
        "locked, the output closed); another run of the same job is running",
    ),
    ExitCode.NO_SPACE: (
        N_("no space"),
        "not enough free space on the destination (checked before the first byte is written)",
    ),
    ExitCode.KEYS: (
        N_("key or certificate problem"),
        "key, certificate or passphrase problem (missing, wrong passphrase, expired)",
    ),
    ExitCode.WARNING: (
        N_("could not judge everything"),
        "nothing failed, but something could not be judged: this machine was too busy "
        "(`cameras verify`: `checker_overloaded`)",
    ),
    ExitCode.INTERNAL: (
        N_("internal error"),
        "internal error: a bug in ppe-tech (`--debug` shows the traceback)",
    ),
    ExitCode.INTERRUPTED: (N_("interrupted"), "interrupted (Ctrl-C)"),
}


def exit_code_table() -> str:
    """The Markdown table README.md shows under "Exit codes"."""
    rows = [f"| {int(code)} | {MEANINGS[code][1]} |" for code in ExitCode]
    return "\n".join(["| code | meaning |", "|---|---|", *rows]) + "\n"


def exit_code_summary() -> str:
    """One line for ``ppe-tech --help``: "0 ok, 1 something checked failed, ..." (translated)."""
    return ", ".join(f"{int(code)} {_(MEANINGS[code][0])}" for code in ExitCode)


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
