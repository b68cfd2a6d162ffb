"""Durable file writes and safe paths, shared by every job that writes user data.

A write is atomic: a temporary file in the same folder, fsync, rename over the
final name, then fsync of the folder so the rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ppe_tech.errors import ConfigError, NoSpaceError, PpeError, StorageError
from ppe_tech.i18n import _

# O_NONBLOCK: opening a FIFO nobody writes to must not wait for a writer (POSIX only)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable. Windows cannot open a folder for this (and NTFS
    journals renames itself), so there it does nothing."""
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def storage_error(exc: OSError, action: str, path: Path) -> StorageError:
    """Turn an OSError into the library's error, keeping 'disk full' distinguishable
    (``action``: what failed, in the current language, e.g. ``_("cannot write")``)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return NoSpaceError(
            _("{action} {path}: no space left on the device").format(action=action, path=path)
        )
    return StorageError(
        _("{action} {path}: {reason}").format(action=action, path=path, reason=exc.strerror or exc)
    )


@contextlib.contextmanager
def atomic_writer(path: Path, mode: int = 0o644, binary: bool = True) -> Iterator[IO]:
    """Yield a file object; on success its content replaces ``path`` atomically."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise storage_error(exc, _("cannot write"), path) from exc
    tmp = Path(tmp_name)
    try:
        if sys.platform != "win32":  # Windows has no POSIX modes: the folder's ACL applies
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise storage_error(exc, _("cannot write"), path) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    with atomic_writer(path, mode=mode) as fh:
        fh.write(data)


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


def read_regular(path: Path, *, limit: int) -> bytes:
    """``Path.read_bytes`` for a regular file of at most ``limit`` bytes; OSError otherwise.

    A FIFO, a device (``/dev/zero``), a socket or a folder given where a file is meant is
    refused at once, never read: such a file may never end or never answer. A drop-in for
    ``read_bytes()``: callers keep their ``except FileNotFoundError`` / ``except OSError``.
    """
    fd = os.open(path, _READ_FLAGS)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise OSError(errno.EINVAL, _("not a regular file (a pipe, device or folder)"))
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, _("larger than {size}, refused").format(size=format_size(limit)))
    return data


def read_limited(
    path: Path, *, limit: int, what: str | None = None, error: type[PpeError] = StorageError
) -> bytes:
    """``read_regular`` with its failures as one-line ``error`` (StorageError by default);
    ``what`` (in the current language) names the file, ``file`` when None."""
    what = what or _("file")
    try:
        return read_regular(path, limit=limit)
    except FileNotFoundError:
        raise error(_("{path}: {what} not found").format(path=path, what=what)) from None
    except OSError as exc:
        raise error(
            _("{path}: cannot read the {what}: {reason}").format(
                path=path, what=what, reason=exc.strerror or exc
            )
        ) from None


def contained_path(base: Path, relative: str | os.PathLike, what: str | None = None) -> Path:
    """``base / relative``, refusing absolute paths and ``..`` that would leave ``base``
    (``what``, in the current language, names it in the refusal; ``path`` when None)."""
    what = what or _("path")
    rel = Path(relative)
    if rel.is_absolute():
        raise ConfigError(
            _("{what} {path!r} must be relative to {base}").format(
                what=what, path=str(relative), base=base
            )
        )
    resolved = (base / rel).resolve()
    if not resolved.is_relative_to(base.resolve()):
        raise ConfigError(
            _("{what} {path!r} escapes its folder {base}").format(
                what=what, path=str(relative), base=base
            )
        )
    return resolved


_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(value: str | int | float) -> int:
    """``10G``, ``500MB``, ``1.5GiB``, ``2048`` (bytes) -> bytes; units are powers of 1024."""
    import re

    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", str(value), re.IGNORECASE)
    if not match:
        raise ValueError(_("{value!r} is not a size (use e.g. 500M, 10G)").format(value=value))
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def format_size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
