"""The archiver: an exam's corridor and entrance segments, copied once into a verified BagIt bag.

How a run goes (``archive_exam``):

1. The plan: the cameras of the chosen zones, the exam window widened by the
   margin, the readable and unreadable segments overlapping it, the gaps.
   The target folder must exist (``archive_target``): a missing one is refused, never
   made, so an unmounted stick does not fill the local disk.
2. The bag is built in ``TARGET/.NAME.partial`` and renamed to ``TARGET/NAME``
   only when complete, so a final name always holds a whole, valid bag.
3. Free space for every byte still to copy is checked before the first byte.
4. Each file is read once, hashed and written in the same pass (several files
   in parallel), under a temporary name, fsynced, renamed; the folders are
   fsynced after each batch, then the batch is appended to a journal
   (``.ppe-archive.jsonl``) and that is fsynced. An interrupted run resumes: the
   journal's files are re-hashed and kept when they match, not copied again.
5. The decode check (``decode.py``) of each file starts as soon as it is copied: its
   sample tables and two samples (the first, the last keyframe) are read back from the
   page cache by the copy thread and decoded on the decoder's own threads while the next
   files are copied, so the check is done when the copy is, not after it. (Decoding at a
   lower CPU priority was measured and dropped: on a busy machine it left the checks
   starved until the copy ended, 46-79 s instead of 30-36 s for 68 segments.)
6. ``manifest-sha256.txt``, ``bag-info.txt`` (point, exam, window, cameras, gaps,
   Payload-Oxum), ``ppe-archive.json`` and ``tagmanifest-sha256.txt`` are written
   atomically, the journal removed, the folder renamed, the target fsynced.

The source is opened read-only (with ``O_NOATIME`` where allowed): never
modified, moved or deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ppe_tech import __version__
from ppe_tech.errors import ConfigError, NoSpaceError, StorageError, VerificationFailed
from ppe_tech.fsutil import atomic_write_text, format_size, fsync_dir, storage_error
from ppe_tech.i18n import _, ngettext
from ppe_tech.recordings import bag as bagit_
from ppe_tech.recordings.decode import decodable, decode_samples, read_samples, samples_known
from ppe_tech.recordings.index import Gap, Index, Segment, find_gaps, index_site
from ppe_tech.recordings.mp4 import NotMp4, VideoTrack, video_track
from ppe_tech.recordings.results import ArchiveRecord, StoredArchive, find_archive, store_archive
from ppe_tech.timeutil import format_duration, iso, local_clock, utc_now

JOURNAL = ".ppe-archive.jsonl"
ARCHIVE_JSON = "ppe-archive.json"
TMP_SUFFIX = ".ppe-tmp"
BATCH_FILES = 32
BATCH_BYTES = 512 * 1024 * 1024
REMOVABLE_ROOTS = (Path("/media"), Path("/run/media"), Path("/mnt"))


@dataclass(frozen=True, kw_only=True)
class Plan:
    exam_id: str
    subject: str
    window_start: datetime  # UTC
    window_end: datetime
    margin: timedelta
    zones: list[str]
    cameras: list[str]
    rooms: list[str]
    root: Path
    segments: list[Segment]
    gaps: list[Gap]
    pending: list[Segment]
    bag_name: str
    window_open: bool = False  # the window (with its margin) has not ended yet

    @property
    def total_bytes(self) -> int:
        return sum(s.size for s in self.segments)


@dataclass
class Progress:
    """Callbacks the CLI wires to a progress bar (all optional, called from worker threads)."""

    on_total: Callable[[int], None] | None = None
    on_bytes: Callable[[int], None] | None = None
    on_phase: Callable[[str], None] | None = None

    def phase(self, text: str) -> None:
        if self.on_phase:
            self.on_phase(text)


@dataclass(frozen=True, kw_only=True)
class ArchiveResult:
    """What ``archive_exam`` did: the stored archive and how this run got it."""

    stored: StoredArchive
    already_complete: bool  # the bag was there: verified, not written
    copied_files: int
    reused_files: int  # finished files of an interrupted run, re-hashed and kept
    seconds: float
    bytes_per_second: int | None
    pending: list[dict[str, Any]]  # segments still being written, left out
    window_open: bool
    pak_entry: int | None  # the PAK log entry recording the copy (None when it was there)

    @property
    def record(self) -> ArchiveRecord:
        return self.stored.record

    def to_json(self) -> dict[str, Any]:
        return {
            **self.stored.to_json(),
            "already_complete": self.already_complete,
            "copied_files": self.copied_files,
            "reused_files": self.reused_files,
            "seconds": round(self.seconds, 3),
            "bytes_per_second": self.bytes_per_second,
            "pending": self.pending,
            "window_open": self.window_open,
            "pak_entry": self.pak_entry,
        }


class ArchiveInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) stopped a run: what it leaves for the next run to resume."""

    def __init__(self, partial: Path, done_bytes: int, total_bytes: int) -> None:
        super().__init__(str(partial))
        self.partial = partial  # the hidden folder of the bag being written
        self.done_bytes = done_bytes  # of files made durable: kept by the next run
        self.total_bytes = total_bytes


def local_window(start: datetime, tz, end: datetime | None = None) -> str:
    """``2026-12-01 09:30:00 MSK`` or ``2026-12-01 09:30:00 .. 14:00:00 MSK`` in the point's
    time (the end's date too when it is another day)."""
    first = start.astimezone(tz)
    if end is None:
        return f"{first:%Y-%m-%d} {local_clock(first, tz)}"
    last = end.astimezone(tz)
    same_day = first.date() == last.date() and first.tzname() == last.tzname()
    if same_day:
        return f"{first:%Y-%m-%d %H:%M:%S} .. {local_clock(last, tz)}"
    return f"{local_window(first, tz)} .. {local_window(last, tz)}"


@dataclass(frozen=True)
class Target:
    """Where the bag goes, and what the technician should know about it."""

    path: Path
    warning: str = ""


@dataclass(kw_only=True)
class _Done:
    bag_path: str  # data/...
    src: str  # relative to the root
    size: int
    mtime_ns: int
    sha256: str
    decodable: bool | None = None
    reason: str = ""


# -- the plan and the target -----------------------------------------------------------------
def plan_archive(
    site,
    conn: sqlite3.Connection | None,
    exam_id: str,
    *,
    zones: list[str] | None = None,
    margin: timedelta | None = None,
    now: datetime | None = None,
    index: Index | None = None,
) -> Plan:
    from ppe_tech.site import ZONES

    exam = site.exam(exam_id)
    cfg = site.config.archive
    zones = list(zones or cfg.zones)
    for zone in zones:
        if zone not in ZONES:
            raise ConfigError(
                _("unknown zone {zone} (known: {known})").format(
                    zone=repr(zone), known=", ".join(ZONES)
                )
            )
    margin = cfg.margin if margin is None else margin
    cams = [c for c in site.config.cameras if c.zone in zones]
    if not cams:
        raise ConfigError(
            _("no camera in zones {zones} (see cameras: in ppe.yaml)").format(
                zones=", ".join(zones)
            )
        )
    start = (exam.start_at(site.tz) - margin).astimezone(UTC)
    end = (exam.end_at(site.tz) + margin).astimezone(UTC)
    index = index or index_site(site, conn, now=now)
    cameras = [c.id for c in cams]
    tolerance = site.config.recordings.gap_tolerance.total_seconds()
    return Plan(
        exam_id=exam.id,
        subject=exam.subject,
        window_start=start,
        window_end=end,
        margin=margin,
        zones=zones,
        cameras=cameras,
        rooms=sorted({c.room or c.id for c in cams}),
        root=index.root,
        segments=index.overlapping(cameras, start, end),
        gaps=[g for cam in cameras for g in find_gaps(cam, index.of(cam), start, end, tolerance)],
        pending=[s for s in index.pending if s.camera in cameras and s.start < end],
        bag_name=f"{site.config.point.code}_{exam.id}_{'-'.join(zones)}",
        window_open=end > (now or utc_now()),
    )


def archive_target(site, to: Path | None = None) -> Target:
    """The folder the bag goes into: ``to`` (``--to``), else ``archive.target`` of ppe.yaml.

    A folder outside the site folder must exist: it is never made, so an archive to an
    unmounted stick fails at once instead of filling the local disk under the stick's mount
    point. The default target inside the site folder (``archive/``) is made when missing.
    Under /media, /run/media or /mnt (removable disks) the default target is expected on a
    mounted disk: when no folder from it up to there is a mount point, say so.
    """
    root = site.path(site.config.recordings.root)
    if to is not None:
        _outside_root(Path(to), root)
        return Target(_existing_folder(Path(to), "--to"))
    if not site.config.archive.target:
        raise ConfigError(_("no destination: give --to DIR or set archive.target in ppe.yaml"))
    path = site.path(site.config.archive.target)
    _outside_root(path, root)
    if path.resolve().is_relative_to(site.folder.resolve()):
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise storage_error(exc, _("cannot make"), path) from None
        return Target(path)
    path = _existing_folder(path, "archive.target")
    removable = next((r for r in REMOVABLE_ROOTS if path.resolve().is_relative_to(r)), None)
    if removable is not None and not _mounted_below(path.resolve(), removable):
        return Target(
            path,
            _(
                "{path} is not on a mounted disk (no mount point between it and {root}): the "
                "archive goes to the local disk"
            ).format(path=path, root=removable),
        )
    return Target(path)


def _outside_root(target: Path, root: Path) -> None:
    if target.resolve().is_relative_to(root.resolve()):
        raise ConfigError(
            _("{target} is inside the recording root {root}: archive to another disk").format(
                target=target, root=root
            )
        )


def _existing_folder(path: Path, what: str) -> Path:
    if not path.exists():
        raise ConfigError(
            _(
                "{what} {path}: no such folder (is the disk mounted?); create it first, "
                "nothing was written"
            ).format(what=what, path=path)
        )
    if not path.is_dir():
        raise ConfigError(_("{what} {path}: not a folder").format(what=what, path=path))
    return path


def _mounted_below(path: Path, root: Path) -> bool:
    for folder in (path, *path.parents):
        if folder == root or not folder.is_relative_to(root):
            return False
        if os.path.ismount(folder):
            return True
    return False


# -- the run ---------------------------------------------------------------------------------
@dataclass(kw_only=True)
class _Run:
    """One archive run: its inputs, its folders and the files it found, shared by its steps."""

    site: Any
    conn: sqlite3.Connection
    plan: Plan
    target: Path
    workers: int
    progress: Progress
    log: Callable[[str], None]
    decode: bool
    started: float = field(default_factory=time.perf_counter)
    began_at: datetime = field(default_factory=utc_now)
    wanted: dict[str, Segment] = field(default_factory=dict)  # bag path -> segment
    reuse: dict[str, _Done] = field(default_factory=dict)  # finished by an interrupted run
    to_copy: list[Segment] = field(default_factory=list)

    @property
    def final(self) -> Path:
        return self.target / self.plan.bag_name

    @property
    def partial(self) -> Path:
        return self.target / f".{self.plan.bag_name}.partial"

    def result(self, stored: StoredArchive, **how: Any) -> ArchiveResult:
        """The one place an ArchiveResult is made, for a written bag and for one found there."""
        return ArchiveResult(
            stored=stored,
            pending=[s.as_dict() for s in self.plan.pending],
            window_open=self.plan.window_open,
            **how,
        )


def archive_exam(
    site,
    conn: sqlite3.Connection,
    plan: Plan,
    target: Path,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    log: Callable[[str], None] | None = None,
    decode: bool = True,
) -> ArchiveResult:
    """Write (or finish, or re-check) the bag of ``plan`` in the existing folder ``target``."""
    run = _Run(
        site=site,
        conn=conn,
        plan=plan,
        target=Path(os.path.abspath(target)),  # the store records where the bag is
        decode=decode,
        workers=workers or site.config.archive.workers,
        progress=progress or Progress(),
        log=log or (lambda _msg: None),
    )
    _outside_root(run.target, plan.root)
    _existing_folder(run.target, _("the archive target"))
    if run.final.exists():
        return _existing(run)
    _require_segments(plan)
    _plan_copy(run)
    _check_space(run.target, run.to_copy, len(run.wanted))
    try:
        (run.partial / "data").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(exc, _("cannot write"), run.partial) from None
    lock = _lock(run.partial)
    try:
        return _write(run)
    except KeyboardInterrupt:
        done = sum(d.size for d in _resumable(run).values())
        raise ArchiveInterrupted(run.partial, done, run.plan.total_bytes) from None
    finally:
        os.close(lock)


def _require_segments(plan: Plan) -> None:
    if plan.segments:
        return
    # the window in UTC as well: the recorder's folders may be named in UTC
    window = f"{iso(plan.window_start)} .. {iso(plan.window_end)}"
    text = _("no recordings of {cameras} between {window} under {root}").format(
        cameras=", ".join(plan.cameras), window=window, root=plan.root
    )
    if plan.pending:
        text += " " + _("({n} still being written: run again in a minute)").format(
            n=len(plan.pending)
        )
    raise ConfigError(text)


def _plan_copy(run: _Run) -> None:
    """What an interrupted run left that can be kept, and what is still to copy."""
    run.wanted = {f"data/{s.path}": s for s in run.plan.segments}
    for bag_rel in run.wanted:
        bagit_.payload_path(run.partial, bag_rel)  # a segment path never leaves the bag
    run.reuse = _resumable(run)
    run.to_copy = [s for rel, s in run.wanted.items() if rel not in run.reuse]


def _resumable(run: _Run) -> dict[str, _Done]:
    """The files the journal says are finished that the next run can keep (same source, same
    size in the bag): what an interrupted run leaves done."""
    journal = _read_journal(run.partial / JOURNAL)
    return {
        rel: done
        for rel, done in journal.items()
        if rel in run.wanted
        and (done.size, done.mtime_ns) == (run.wanted[rel].size, run.wanted[rel].mtime_ns)
        and _size_of(run.partial / rel) == done.size
    }


def _lock(partial: Path) -> int:
    """Hold an exclusive lock on the partial bag folder: one archiver per bag at a time."""
    import fcntl

    fd = os.open(partial, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StorageError(
            _("another ppe-tech archive is writing {partial}; wait for it to finish").format(
                partial=partial
            )
        ) from None
    return fd


def _write(run: _Run) -> ArchiveResult:
    partial = run.partial
    try:
        if not (partial / "bagit.txt").is_file():
            atomic_write_text(partial / "bagit.txt", bagit_.BAGIT_TXT)
            fsync_dir(run.target)
        _clean_partial(partial, set(run.wanted))
    except OSError as exc:
        raise storage_error(exc, _("cannot write"), partial) from None
    if run.progress.on_total:  # the finished files are re-read, the others copied: each byte once
        run.progress.on_total(run.plan.total_bytes)
    if run.reuse:
        run.progress.phase(_("checking finished files"))
        run.reuse, stale = _recheck(partial, run.reuse, run.workers, run.progress.on_bytes)
        run.to_copy += [run.wanted[rel] for rel in stale]
        checked = ngettext(
            "resuming: {n} finished file checked, {stale} to copy again",
            "resuming: {n} finished files checked, {stale} to copy again",
            len(run.reuse),
        )
        run.log(checked.format(n=len(run.reuse), stale=len(stale)))
    run.progress.phase(_("copying"))
    with _Decoder(partial, workers=run.workers, enabled=run.decode) as decoder:
        copied = _copy_all(run, on_hashed=decoder.hashed, on_copied=decoder.copied)
        done: dict[str, _Done] = {**run.reuse, **copied}
        run.progress.phase(_("decoding first frames and last keyframes"))
        decoder.collect(done, partial / JOURNAL)
    record = _finish(run, done)
    _publish(run)
    seconds = time.perf_counter() - run.started
    copied_bytes = sum(d.size for d in copied.values())
    stored = store_archive(run.conn, record, str(run.final))
    return run.result(
        stored,
        already_complete=False,
        copied_files=len(copied),
        reused_files=len(run.reuse),
        seconds=seconds,
        bytes_per_second=round(copied_bytes / seconds) if seconds > 0 else None,
        pak_entry=_record_pak(run, record),
    )


def _publish(run: _Run) -> None:
    """The finished bag gets its final name, durably."""
    try:
        (run.partial / JOURNAL).unlink(missing_ok=True)
        fsync_dir(run.partial)
        os.rename(run.partial, run.final)
        fsync_dir(run.target)
    except OSError as exc:
        raise storage_error(exc, _("cannot finish"), run.final) from None


# -- steps -----------------------------------------------------------------------------------
def _size_of(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _check_space(target: Path, to_copy: list[Segment], file_count: int) -> None:
    try:
        st = os.statvfs(target)
    except OSError as exc:
        raise storage_error(exc, _("cannot check free space on"), target) from None
    block = st.f_frsize or 4096
    needed = sum(-(-s.size // block) * block for s in to_copy)
    needed += (file_count * 200 // block + 16) * block  # manifests, bag-info, journal
    free = st.f_bavail * st.f_frsize
    if needed > free:
        raise NoSpaceError(
            _("{target}: {needed} needed for the archive, {free} free; nothing was copied").format(
                target=target, needed=format_size(needed), free=format_size(free)
            )
        )


def _read_journal(path: Path) -> dict[str, _Done]:
    done: dict[str, _Done] = {}
    decoded: dict[str, tuple[bool, str]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return done
    except (OSError, UnicodeDecodeError) as exc:
        raise StorageError(
            _("cannot read {path}: {reason}").format(
                path=path, reason=getattr(exc, "strerror", None) or exc
            )
        ) from None
    for line in lines:
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line after a crash
        if not isinstance(row, dict):
            continue
        if "decoded" in row:
            decoded[row["decoded"]] = (bool(row["ok"]), row.get("reason", ""))
        elif {"path", "src", "size", "mtime_ns", "sha256"} <= row.keys():
            done[row["path"]] = _Done(
                bag_path=row["path"],
                src=row["src"],
                size=row["size"],
                mtime_ns=row["mtime_ns"],
                sha256=row["sha256"],
            )
    for rel, (ok, reason) in decoded.items():
        if rel in done:
            done[rel].decodable, done[rel].reason = ok, reason
    return done


def _clean_partial(partial: Path, wanted: set[str]) -> None:
    """Remove temporary files of a killed run and payload files no longer planned."""
    data = partial / "data"
    for folder, _dirs, files in os.walk(data):
        for name in files:
            full = Path(folder) / name
            rel = full.relative_to(partial).as_posix()
            if name.endswith(TMP_SUFFIX) or rel not in wanted:
                full.unlink()


def _recheck(partial, reuse, workers, on_bytes):
    def one(item):
        rel, done = item
        try:
            return rel, bagit_.hash_file(partial / rel, on_bytes=on_bytes) == done.sha256
        except OSError:
            return rel, False

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, reuse.items()))
    good = {rel: reuse[rel] for rel, ok in results if ok}
    stale = [rel for rel, ok in results if not ok]
    return good, stale


# -- the decode check, beside the copy -------------------------------------------------------
def _samples(tmp: Path) -> tuple[VideoTrack, bytes, bytes] | str | None:
    """A just-copied file's track and its two samples, read back from the page cache; the
    reason when it has no track that can be checked; None when the demuxer must check it."""
    try:
        track = video_track(tmp)
        if not samples_known(track):
            return None
        return (track, *read_samples(tmp, track))
    except NotMp4 as exc:
        return str(exc)
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"


class _Decoder:
    """The decode checks of a run: started as each file is copied, collected at the end."""

    def __init__(self, partial: Path, *, workers: int, enabled: bool) -> None:
        self.partial = partial
        self.enabled = enabled
        self.pool = ThreadPoolExecutor(max_workers=workers)
        self.checks: dict[str, Future] = {}

    def __enter__(self) -> _Decoder:
        return self

    def __exit__(self, *exc_info) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def hashed(self, done: _Done, tmp: Path) -> None:
        """A copy ended (called from its copy thread, before the rename): check it at once."""
        if not self.enabled:
            return
        found = _samples(tmp)
        if isinstance(found, str):
            self.checks[done.bag_path] = _finished((False, found))
        elif found is not None:
            self.checks[done.bag_path] = self.pool.submit(decode_samples, *found)

    def copied(self, done: _Done) -> None:
        """A file got its bag name: check it through the demuxer when not checked yet."""
        if self.enabled and done.bag_path not in self.checks:
            self.checks[done.bag_path] = self.pool.submit(decodable, self.partial / done.bag_path)

    def collect(self, done: dict[str, _Done], journal_path: Path) -> None:
        """Wait for every check (starting those of resumed files), then journal the results."""
        todo = [d for d in done.values() if d.decodable is None] if self.enabled else []
        for d in todo:
            self.copied(d)
        try:
            with open(journal_path, "a", encoding="utf-8") as journal:
                for d in todo:
                    d.decodable, d.reason = self.checks[d.bag_path].result()
                    row = {"decoded": d.bag_path, "ok": d.decodable, "reason": d.reason}
                    journal.write(json.dumps(row) + "\n")
                journal.flush()
                os.fsync(journal.fileno())
        except OSError as exc:
            raise storage_error(exc, _("cannot write"), journal_path) from None


def _finished(value) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


# -- the copy --------------------------------------------------------------------------------
def _copy_all(
    run: _Run,
    *,
    on_hashed: Callable[[_Done, Path], None],
    on_copied: Callable[[_Done], None],
):
    """Copy+hash files in parallel; fsync folders and append to the journal in batches."""
    done: dict[str, _Done] = {}
    if not run.to_copy:
        return done
    partial = run.partial
    try:
        for folder in sorted({(partial / "data" / seg.path).parent for seg in run.to_copy}):
            folder.mkdir(parents=True, exist_ok=True)
        journal = open(partial / JOURNAL, "a", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise storage_error(exc, _("cannot write"), partial) from None

    def one(seg: Segment) -> tuple[_Done, Path, Path]:
        return _copy_one(run, seg, on_hashed)

    batch = _Batch(journal=journal, done=done, on_copied=on_copied)
    pool = ThreadPoolExecutor(max_workers=run.workers)
    pending: set[Future] = set()
    queue = list(reversed(run.to_copy))
    try:
        with journal:
            while queue or pending:
                while queue and len(pending) < run.workers * 2:  # a bounded window: memory flat
                    pending.add(pool.submit(one, queue.pop()))
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    batch.add(future.result())
                if batch.full():
                    batch.flush()
            batch.flush()
    except OSError as exc:
        raise storage_error(exc, _("cannot write"), partial) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return done


def _copy_one(
    run: _Run, seg: Segment, on_hashed: Callable[[_Done, Path], None]
) -> tuple[_Done, Path, Path]:
    """Copy one segment under a temporary name; its decode check starts as the copy ends."""
    src = run.plan.root / seg.path
    dst = run.partial / "data" / seg.path
    tmp = dst.with_name(f".{dst.name}{TMP_SUFFIX}")
    size, digest = bagit_.copy_and_hash(src, tmp, run.progress.on_bytes, fsync=False)
    st = os.stat(src)
    if size != seg.size or st.st_size != seg.size or st.st_mtime_ns != seg.mtime_ns:
        tmp.unlink(missing_ok=True)
        raise StorageError(
            _("{file} changed while it was copied (still being written?); run again").format(
                file=src
            )
        )
    item = _Done(
        bag_path=f"data/{seg.path}",
        src=seg.path,
        size=size,
        mtime_ns=seg.mtime_ns,
        sha256=digest,
    )
    on_hashed(item, tmp)
    return item, tmp, dst


@dataclass(kw_only=True)
class _Batch:
    """Copied files waiting to be made durable together (fewer fsyncs of folders and journal)."""

    journal: Any
    done: dict[str, _Done]
    on_copied: Callable[[_Done], None]
    items: list[tuple[_Done, Path, Path]] = field(default_factory=list)
    size: int = 0

    def add(self, item: tuple[_Done, Path, Path]) -> None:
        self.items.append(item)
        self.size += item[0].size

    def full(self) -> bool:
        return len(self.items) >= BATCH_FILES or self.size >= BATCH_BYTES

    def flush(self) -> None:
        """Durable in this order: each file fsynced, renamed; the folders fsynced; then the journal."""
        if not self.items:
            return
        for _item, tmp, dst in self.items:
            bagit_.fsync_path(tmp)
            os.rename(tmp, dst)
        for folder in {dst.parent for _item, _tmp, dst in self.items}:
            fsync_dir(folder)
        for d, _tmp, _dst in self.items:
            row = {
                "path": d.bag_path,
                "src": d.src,
                "size": d.size,
                "mtime_ns": d.mtime_ns,
                "sha256": d.sha256,
            }
            self.journal.write(json.dumps(row) + "\n")
        self.journal.flush()
        os.fsync(self.journal.fileno())
        for d, _tmp, _dst in self.items:
            self.done[d.bag_path] = d
            self.on_copied(d)
        self.items, self.size = [], 0


# -- the tag files ---------------------------------------------------------------------------
def _finish(run: _Run, done: dict[str, _Done]) -> ArchiveRecord:
    """The archive record, then the manifests, bag-info and ppe-archive.json of the bag."""
    files, undecodable = _files(run, done)
    manifest = bagit_.manifest_text([(d.bag_path, d.sha256) for d in done.values()])
    plan = run.plan
    record = ArchiveRecord(
        exam_id=plan.exam_id,
        created_at=iso(utc_now()),
        window_start=iso(plan.window_start),
        window_end=iso(plan.window_end),
        margin=format_duration(plan.margin),
        zones=plan.zones,
        cameras=plan.cameras,
        files=files,
        total_bytes=sum(d.size for d in done.values()),
        file_count=len(files),
        manifest_sha256=hashlib.sha256(manifest.encode()).hexdigest(),
        gaps=[g.as_dict() for g in plan.gaps],
        undecodable=undecodable,
    )
    tag_files = {
        bagit_.MANIFEST: manifest,
        bagit_.BAG_INFO: bagit_.bag_info_text(_bag_info(run, record)),
        ARCHIVE_JSON: json.dumps(record.to_json(), ensure_ascii=False, indent=1) + "\n",
    }
    try:
        for name, text in tag_files.items():
            atomic_write_text(run.partial / name, text)
        tags = [(name, bagit_.hash_file(run.partial / name)) for name in ("bagit.txt", *tag_files)]
        atomic_write_text(run.partial / bagit_.TAGMANIFEST, bagit_.manifest_text(tags))
    except OSError as exc:
        raise storage_error(exc, _("cannot write"), run.partial) from None
    return record


def _files(run: _Run, done: dict[str, _Done]) -> tuple[list[dict], list[dict]]:
    """The record's file list, and the undecodable ones with their reasons."""
    by_src = {s.path: s for s in run.plan.segments}
    files, undecodable = [], []
    for rel in sorted(done):
        d = done[rel]
        seg = by_src[d.src]
        if not run.decode and seg.status == "unreadable":  # not decoded, but known not an MP4
            d.decodable, d.reason = False, seg.reason
        files.append(
            {
                "camera": seg.camera,
                "path": d.bag_path,
                "size": d.size,
                "sha256": d.sha256,
                "start": seg.start.isoformat(),
                "duration": seg.duration,
                "decodable": None if d.decodable is None else bool(d.decodable),
            }
        )
        if d.decodable is False:
            reason = d.reason or seg.reason or "does not decode"
            if seg.status == "unreadable" and seg.reason and d.reason != seg.reason:
                reason = f"{d.reason}; {seg.reason}" if d.reason else seg.reason
            undecodable.append({"camera": seg.camera, "path": d.bag_path, "reason": reason})
    return files, undecodable


def _bag_info(run: _Run, record: ArchiveRecord) -> list[tuple[str, str]]:
    plan, point = run.plan, run.site.config.point
    checked = "first frame and last keyframe of every file"
    info = [
        ("Source-Organization", point.name),
        ("Organization-Address", point.address),
        ("External-Identifier", f"{point.code}/{plan.exam_id}"),
        (
            "External-Description",
            f"Recordings of {', '.join(plan.zones)} cameras, exam {plan.exam_id} ({plan.subject})",
        ),
        ("Bagging-Date", run.began_at.date().isoformat()),
        ("Bag-Software-Agent", f"ppe-tech {__version__}"),
        ("Payload-Oxum", f"{record.total_bytes}.{record.file_count}"),
        ("Bag-Size", format_size(record.total_bytes)),
        ("PPE-Point-Code", point.code),
        ("PPE-Region", point.region),
        ("PPE-Exam-Id", plan.exam_id),
        ("PPE-Exam-Subject", plan.subject),
        ("PPE-Window-Start", record.window_start),
        ("PPE-Window-End", record.window_end),
        ("PPE-Margin", record.margin),
        ("PPE-Zones", ", ".join(plan.zones)),
        *[("PPE-Camera", cam) for cam in plan.cameras],
        ("PPE-Gap-Count", str(len(record.gaps))),
        *[
            ("PPE-Gap", f"{g['camera']} {g['start']} {g['end']} {g['seconds']:g}s")
            for g in record.gaps
        ],
        ("PPE-Decode-Check", checked if run.decode else "skipped (--no-decode-check)"),
        ("PPE-Undecodable-Count", str(len(record.undecodable))),
        *[("PPE-Undecodable", f"{u['path']}: {u['reason']}") for u in record.undecodable],
    ]
    return [(label, run.site.redact(value)) for label, value in info]


# -- a bag already there ---------------------------------------------------------------------
def _existing(run: _Run) -> ArchiveResult:
    """The bag is already there: check it fully, and make sure the store knows it."""
    final = run.final
    run.progress.phase(_("checking the existing bag"))
    checked = bagit_.verify_bag(
        final, on_bytes=run.progress.on_bytes, on_total=run.progress.on_total
    )
    if not checked.valid:
        first = checked.problems[0]
        raise VerificationFailed(
            _(
                "{bag} exists but fails verification ({n} problems, first: {first}); move it "
                "away to archive again"
            ).format(
                bag=final,
                n=len(checked.problems),
                first=f"{first.get('kind')} {first.get('path', first.get('message', ''))}",
            )
        )
    record = read_archive_json(final)
    if record.exam_id != run.plan.exam_id:
        raise ConfigError(
            _("{bag} holds exam {found}, not {wanted}").format(
                bag=final, found=repr(record.exam_id), wanted=repr(run.plan.exam_id)
            )
        )
    stored = find_archive(run.conn, bag_path=str(final), manifest_sha256=record.manifest_sha256)
    pak = None
    if stored is None:
        stored = store_archive(run.conn, record, str(final))
        pak = _record_pak(run, record)
    return run.result(
        stored,
        already_complete=True,
        copied_files=0,
        reused_files=record.file_count,
        seconds=checked.seconds,
        bytes_per_second=None,
        pak_entry=pak,
    )


def read_archive_json(bag: Path) -> ArchiveRecord:
    """The record in a bag's ``ppe-archive.json``; StorageError when it cannot be read as one."""
    try:
        data = json.loads((bag / ARCHIVE_JSON).read_text(encoding="utf-8"))
        return ArchiveRecord.from_json(data)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise StorageError(
            _("{bag}: cannot read {file}: {reason}").format(bag=bag, file=ARCHIVE_JSON, reason=exc)
        ) from None


def _record_pak(run: _Run, record: ArchiveRecord) -> int | None:
    """Write the copy into the video access (PAK) log as an export of recordings, when it exists."""
    try:
        from ppe_tech.pak.journal import record_action
    except ImportError:
        return None
    plan = run.plan
    tz = run.site.tz
    window = local_window(
        datetime.fromisoformat(record.window_start), tz, datetime.fromisoformat(record.window_end)
    )
    note = _(
        "Exam {exam}: {files} files, {size}, cameras {cameras}, window {window}, gaps {gaps}, "
        "undecodable {undecodable}, manifest sha256 {manifest}"
    ).format(
        exam=plan.exam_id,
        files=record.file_count,
        size=format_size(record.total_bytes),
        cameras=", ".join(plan.cameras),
        window=window,
        gaps=len(record.gaps),
        undecodable=len(record.undecodable),
        manifest=record.manifest_sha256[:16],
    )
    entry = record_action(
        run.site,
        run.conn,
        action="export",
        rooms=", ".join(plan.rooms),
        start=run.began_at,
        end=utc_now(),
        note=note,
    )
    return entry.get("seq")
