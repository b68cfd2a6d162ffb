"""One run at a time: a lock file per job in the site folder, portable (no fcntl).

Two ``check run`` at once would store two runs racing for the same manual answers; two
archives of one exam would write the same bag. ``run_lock`` creates ``.locks/NAME.lock``
with ``O_CREAT | O_EXCL`` (atomic on POSIX and Windows) holding the owner's pid, its start
time and the command. A second run says who holds it and exits 3, or waits (``wait=True``).
A lock whose owner is gone (killed with -9, power cut) is stale: psutil tells (same pid and
same process start time, so a reused pid is not taken for the owner) and it is taken over.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from ppe_tech.errors import StorageError
from ppe_tech.i18n import _

POLL_SECONDS = 0.5


def _owner_record() -> dict:
    import psutil

    me = psutil.Process()
    return {
        "pid": me.pid,
        "created": me.create_time(),
        "started": datetime.now(UTC).isoformat(),
        "command": " ".join(me.cmdline()[1:4]),
    }


def _alive(record: dict) -> bool:
    import psutil

    try:
        owner = psutil.Process(int(record["pid"]))
        return abs(owner.create_time() - float(record["created"])) < 1.0
    except (psutil.Error, KeyError, TypeError, ValueError):
        return False


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # half-written or damaged: its owner cannot be known, so it is stale
    return data if isinstance(data, dict) else {}


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _try_create(path: Path, record: dict) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(record, fh)
    return True


def _take_over_stale(path: Path, stale: dict) -> None:
    """Move a stale lock aside; put it back if it turned out to be a new owner's."""
    aside = path.with_name(f"{path.name}.stale-{os.getpid()}")
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        return  # another waiter took it over first
    if _read(aside) != stale:  # a new owner locked between our read and our move
        with contextlib.suppress(OSError):
            os.replace(aside, path)
        return
    with contextlib.suppress(OSError):
        aside.unlink()


def holder_text(record: dict, what: str, tz: tzinfo | None) -> str:
    try:
        started = datetime.fromisoformat(record["started"]).astimezone(tz).strftime("%H:%M")
    except (KeyError, TypeError, ValueError):
        started = "?"
    return _("another {what} is running (pid {pid}, started {started})").format(
        what=what, pid=record.get("pid", "?"), started=started
    )


@contextlib.contextmanager
def run_lock(
    folder: Path, name: str, *, what: str, wait: bool = False, tz: tzinfo | None = None
) -> Iterator[None]:
    """Hold ``folder/.locks/NAME.lock`` for the block; StorageError (exit 3) if it is held."""
    locks = Path(folder) / ".locks"
    try:
        locks.mkdir(exist_ok=True)
    except OSError as exc:
        raise StorageError(
            _("cannot make {folder}: {reason}").format(folder=locks, reason=exc.strerror or exc)
        ) from None
    path = locks / f"{name}.lock"
    record = _owner_record()
    while not _try_create(path, record):
        held = _read(path)
        if held is None:
            continue  # released meanwhile: try again
        if not held and _age(path) < 5:  # its owner is still writing it
            time.sleep(0.05)
            continue
        if not _alive(held):
            _take_over_stale(path, held)
            continue
        if not wait:
            raise StorageError(
                _("{holder}; wait for it, or use --wait").format(holder=holder_text(held, what, tz))
            )
        time.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        if _read(path) == record:
            with contextlib.suppress(OSError):
                path.unlink()
