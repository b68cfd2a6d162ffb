"""BagIt (RFC 8493) pieces: streaming copy-and-hash, manifests, bag-info, and the verifier.

The copy reads each byte once: ``readinto`` a large buffer, feed it to SHA-256
(which releases the GIL on big updates) and write it out, so several files run
in parallel threads on separate cores. Memory stays at one buffer per worker.
"""

from __future__ import annotations

import errno
import hashlib
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ppe_tech.errors import ConfigError, StorageError
from ppe_tech.fsutil import storage_error
from ppe_tech.i18n import _

BUFFER = 8 * 1024 * 1024
BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
MANIFEST = "manifest-sha256.txt"
TAGMANIFEST = "tagmanifest-sha256.txt"
BAG_INFO = "bag-info.txt"

_local = threading.local()


def _buffer() -> memoryview:
    buf = getattr(_local, "buf", None)
    if buf is None:
        buf = _local.buf = memoryview(bytearray(BUFFER))
    return buf


def open_source(path: Path) -> int:
    """Open read-only without touching the access time when the system allows it."""
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
    noatime = getattr(os, "O_NOATIME", 0)
    if noatime:
        try:
            return os.open(path, flags | noatime)
        except PermissionError:
            pass
    return os.open(path, flags)


def _advise(fd: int, advice_name: str) -> None:
    advice = getattr(os, advice_name, None)
    if advice is not None and hasattr(os, "posix_fadvise"):
        try:
            os.posix_fadvise(fd, 0, 0, advice)
        except OSError:
            pass


def _sync_file_range():
    """Linux ``sync_file_range``: start the write-back of a file without waiting for it."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        func = libc.sync_file_range
        func.argtypes = (ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint)
        return func
    except (OSError, AttributeError):
        return None


_SYNC_FILE_RANGE = _sync_file_range()
_SYNC_FILE_RANGE_WRITE = 2


def start_writeback(fd: int) -> None:
    if _SYNC_FILE_RANGE is not None:
        _SYNC_FILE_RANGE(fd, 0, 0, _SYNC_FILE_RANGE_WRITE)


def copy_and_hash(
    src: Path, tmp: Path, on_bytes: Callable[[int], None] | None = None, fsync: bool = True
) -> tuple[int, str]:
    """Copy ``src`` to ``tmp``, hashing what was read: ``(size, sha256)``.

    With ``fsync`` the copy is durable on return; without, its write-back is only started
    (the caller fsyncs a batch of files later, when most of it has reached the disk).
    """
    view = _buffer()
    digest = hashlib.sha256()
    size = 0
    try:
        fd_in = open_source(src)
    except OSError as exc:
        raise storage_error(exc, _("cannot read"), src) from None
    try:
        _advise(fd_in, "POSIX_FADV_SEQUENTIAL")
        try:
            fd_out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise storage_error(exc, _("cannot write"), tmp) from None
        try:
            while True:
                try:
                    n = os.readv(fd_in, [view])
                except OSError as exc:
                    raise storage_error(exc, _("cannot read"), src) from None
                if not n:
                    break
                chunk = view[:n]
                digest.update(chunk)
                while chunk:
                    written = os.write(fd_out, chunk)
                    chunk = chunk[written:]
                size += n
                if on_bytes is not None:
                    on_bytes(n)
            if fsync:
                os.fsync(fd_out)
            else:
                start_writeback(fd_out)
        except OSError as exc:
            raise storage_error(exc, _("cannot write"), tmp) from None
        finally:
            os.close(fd_out)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    finally:
        os.close(fd_in)
    return size, digest.hexdigest()


def hash_file(
    path: Path, algorithm: str = "sha256", on_bytes: Callable[[int], None] | None = None
) -> str:
    view = _buffer()
    digest = hashlib.new(algorithm)
    fd = open_source(path)
    try:
        _advise(fd, "POSIX_FADV_SEQUENTIAL")
        while True:
            n = os.readv(fd, [view])
            if not n:
                break
            digest.update(view[:n])
            if on_bytes is not None:
                on_bytes(n)
    finally:
        os.close(fd)
    return digest.hexdigest()


# -- names in manifests (RFC 8493 section 2.1.3: CR, LF and % are percent-encoded) -----------
def encode_path(path: str) -> str:
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def decode_path(text: str) -> str:
    return (
        text.replace("%0A", "\n")
        .replace("%0a", "\n")
        .replace("%0D", "\r")
        .replace("%0d", "\r")
        .replace("%25", "%")
    )


def payload_path(bag: Path, relative: str) -> Path:
    """``bag/relative`` for a path read from a manifest; refuses anything leaving the bag."""
    if relative.startswith("/") or "\\" in relative or "\x00" in relative:
        raise ConfigError(
            _("manifest path {path!r} is not a relative bag path").format(path=relative)
        )
    parts = relative.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ConfigError(
            _("manifest path {path!r} escapes the bag or is not normal").format(path=relative)
        )
    full = bag.joinpath(*parts)
    if not full.resolve().is_relative_to(bag.resolve()):
        raise ConfigError(
            _("manifest path {path!r} escapes the bag through a link").format(path=relative)
        )
    return full


def manifest_text(entries: list[tuple[str, str]]) -> str:
    """``sha256  path`` lines, sorted by path."""
    return "".join(f"{digest}  {encode_path(path)}\n" for path, digest in sorted(entries))


def read_manifest(bag: Path, name: str) -> dict[str, str]:
    try:
        text = (bag / name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            _("{bag}: no {file} (not a bag, or not a sha256 bag)").format(bag=bag, file=name)
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StorageError(
            _("cannot read {path}: {reason}").format(path=bag / name, reason=exc)
        ) from None
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(None, 1)
        if len(parts) != 2:
            raise ConfigError(
                _("{file}:{line}: expected 'CHECKSUM  PATH'").format(file=bag / name, line=number)
            )
        entries[decode_path(parts[1].strip())] = parts[0].lower()
    return entries


def bag_info_text(fields: list[tuple[str, str]]) -> str:
    lines = []
    for label, value in fields:
        value = " ".join(str(value).split())  # one line per field: no CR/LF from input
        lines.append(f"{label}: {value}")
    return "\n".join(lines) + "\n"


def read_bag_info(bag: Path) -> dict[str, list[str]]:
    info: dict[str, list[str]] = {}
    path = bag / BAG_INFO
    if not path.is_file():
        return info
    last = None
    # not UTF-8 is damage, not a crash: U+FFFD shows it, the tag manifest finds the change
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line[:1] in (" ", "\t") and last:
            info[last][-1] += " " + line.strip()
            continue
        label, sep, value = line.partition(":")
        if sep:
            last = label.strip()
            info.setdefault(last, []).append(value.strip())
    return info


def payload_files(bag: Path) -> dict[str, int]:
    """Every file under data/ (relative path -> size)."""
    found: dict[str, int] = {}
    data = bag / "data"
    for folder, _dirs, files in os.walk(data):
        for name in files:
            full = Path(folder) / name
            found[full.relative_to(bag).as_posix()] = full.lstat().st_size
    return found


# -- verification --------------------------------------------------------------------------
@dataclass
class VerifyResult:
    bag: Path
    mode: str
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    problems: list[dict] = field(default_factory=list)
    site: Any = None  # verify.SiteCheck: the comparison with the site's record, when made

    @property
    def valid(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        rate = self.bytes / self.seconds if self.seconds > 0 else None
        return {
            "bag": str(self.bag),
            "mode": self.mode,
            "valid": self.valid,
            "files": self.files,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "bytes_per_second": round(rate) if rate else None,
            "problems": self.problems,
            "site": self.site.to_json() if self.site is not None else None,
        }


def verify_bag(
    bag: Path,
    *,
    fast: bool = False,
    workers: int | None = None,
    on_bytes: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Check a bag: completeness and Payload-Oxum (``fast``), or every checksum too."""
    bag = Path(bag)
    started = time.perf_counter()
    if not bag.is_dir():
        raise ConfigError(_("{bag}: no such bag folder").format(bag=bag))
    if not (bag / "bagit.txt").is_file():
        raise ConfigError(_("{bag}: no bagit.txt (not a BagIt bag)").format(bag=bag))
    result = VerifyResult(bag, "fast" if fast else "full")
    manifest = read_manifest(bag, MANIFEST)
    for relative in manifest:
        payload_path(bag, relative)  # raises on a path leaving the bag
        if not relative.startswith("data/"):
            result.problems.append({"kind": "outside-payload", "path": relative})
    present = payload_files(bag)
    for relative in sorted(set(manifest) - set(present)):
        result.problems.append({"kind": "missing", "path": relative})
    for relative in sorted(set(present) - set(manifest)):
        result.problems.append({"kind": "extra", "path": relative})
    result.files = len(present)
    result.bytes = sum(present.values())
    oxum = read_bag_info(bag).get("Payload-Oxum")
    if oxum:
        try:
            octets, count = (int(x) for x in oxum[0].split("."))
        except ValueError:
            bad = _("bad Payload-Oxum {value}").format(value=repr(oxum[0]))
            result.problems.append({"kind": "oxum", "message": bad})
        else:
            if (octets, count) != (result.bytes, result.files):
                result.problems.append(
                    {
                        "kind": "oxum",
                        "message": _("Payload-Oxum {said}, found {found}").format(
                            said=f"{octets}.{count}", found=f"{result.bytes}.{result.files}"
                        ),
                    }
                )
    elif fast:
        no_oxum = _("bag-info.txt has no Payload-Oxum")
        result.problems.append({"kind": "oxum", "message": no_oxum})
    if not fast:
        checks = [(rel, digest) for rel, digest in manifest.items() if rel in present]
        if on_total is not None:
            on_total(sum(present[rel] for rel, _ in checks))
        result.problems.extend(_check_all(bag, checks, "changed", workers, on_bytes))
        tags = read_manifest(bag, TAGMANIFEST) if (bag / TAGMANIFEST).is_file() else {}
        for relative in tags:
            payload_path(bag, relative)
        missing_tags = [{"kind": "missing-tag", "path": r} for r in tags if not (bag / r).is_file()]
        result.problems.extend(missing_tags)
        present_tags = [(r, d) for r, d in tags.items() if (bag / r).is_file()]
        result.problems.extend(_check_all(bag, present_tags, "changed-tag", workers, None))
    result.seconds = time.perf_counter() - started
    return result


def _check_all(bag, checks, kind, workers, on_bytes) -> list[dict]:
    def one(item):
        relative, expected = item
        algorithm = "sha256" if len(expected) == 64 else "sha512" if len(expected) == 128 else None
        if algorithm is None:
            return {"kind": kind, "path": relative, "message": _("unknown checksum length")}
        try:
            actual = hash_file(payload_path(bag, relative), algorithm, on_bytes)
        except OSError as exc:
            return {"kind": "unreadable", "path": relative, "message": exc.strerror or str(exc)}
        if actual != expected:
            return {"kind": kind, "path": relative, "expected": expected, "actual": actual}
        return None

    workers = workers or max(2, os.cpu_count() or 2)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return [p for p in pool.map(one, sorted(checks, key=lambda c: c[0])) if p]


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
    finally:
        os.close(fd)
