"""The archiver: an exam's corridor and entrance segments, copied once into a verified BagIt bag.

How a run goes (``archive_exam``):

1. The plan: the cameras of the chosen zones, the exam window widened by the
   margin, the readable and unreadable segments overlapping it, the gaps.
2. The bag is built in ``TARGET/.NAME.partial`` and renamed to ``TARGET/NAME``
   only when complete, so a final name always holds a whole, valid bag.
3. Free space for every byte still to copy is checked before the first byte.
4. Each file is read once, hashed and written in the same pass (several files
   in parallel), under a temporary name, fsynced, renamed; the folders are
   fsynced after each batch, then the batch is appended to a journal
   (``.ppe-archive.jsonl``) and that is fsynced. An interrupted run resumes: the
   journal's files are re-hashed and kept when they match, not copied again.
5. Each archived file is decoded at its first and last frame (in a parallel
   thread); undecodable ones are reported.
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

from ppe_tech import __version__
from ppe_tech.errors import ConfigError, NoSpaceError, StorageError, VerificationFailed
from ppe_tech.fsutil import atomic_write_text, format_size, fsync_dir, storage_error
from ppe_tech.recordings import bag as bagit_
from ppe_tech.recordings.index import Gap, Index, Segment, find_gaps, index_site
from ppe_tech.timeutil import format_duration, iso, utc_now

JOURNAL = ".ppe-archive.jsonl"
ARCHIVE_JSON = "ppe-archive.json"
TMP_SUFFIX = ".ppe-tmp"
BATCH_FILES = 32
BATCH_BYTES = 512 * 1024 * 1024


@dataclass
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


@dataclass
class _Done:
    bag_path: str  # data/...
    src: str  # relative to the root
    size: int
    mtime_ns: int
    sha256: str
    decodable: bool | None = None
    reason: str = ""
    extra: dict = field(default_factory=dict)


def plan_archive(
    site,
    conn: sqlite3.Connection | None,
    exam_id: str,
    zones: list[str] | None = None,
    margin: timedelta | None = None,
    now: datetime | None = None,
    index: Index | None = None,
) -> Plan:
    exam = site.exam(exam_id)
    cfg = site.config.archive
    zones = list(zones or cfg.zones)
    from ppe_tech.site import ZONES

    for zone in zones:
        if zone not in ZONES:
            raise ConfigError(f"unknown zone {zone!r} (known: {', '.join(ZONES)})")
    margin = cfg.margin if margin is None else margin
    cams = [c for c in site.config.cameras if c.zone in zones]
    if not cams:
        raise ConfigError(f"no camera in zones {', '.join(zones)} (see cameras: in ppe.yaml)")
    start = (exam.start_at(site.tz) - margin).astimezone(UTC)
    end = (exam.end_at(site.tz) + margin).astimezone(UTC)
    index = index or index_site(site, conn, now=now)
    cameras = [c.id for c in cams]
    segments = index.overlapping(cameras, start, end)
    tolerance = site.config.recordings.gap_tolerance.total_seconds()
    gaps = [g for cam in cameras for g in find_gaps(cam, index.of(cam), start, end, tolerance)]
    pending = [s for s in index.pending if s.camera in cameras and s.start < end]
    name = f"{site.config.point.code}_{exam.id}_{'-'.join(zones)}"
    rooms = sorted({c.room or c.id for c in cams})
    window_open = end > (now or utc_now())
    return Plan(exam.id, exam.subject, start, end, margin, zones, cameras, rooms, index.root,
                segments, gaps, pending, name, window_open)  # fmt: skip


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
) -> dict:
    """Write (or finish, or re-check) the bag of ``plan`` under ``target``; return the archive record."""
    progress = progress or Progress()
    log = log or (lambda _msg: None)
    workers = workers or site.config.archive.workers
    started = time.perf_counter()
    began_at = utc_now()
    target = Path(target)
    root = plan.root.resolve()
    if target.resolve() == root or target.resolve().is_relative_to(root):
        raise ConfigError(
            f"{target} is inside the recording root {plan.root}: archive to another disk"
        )
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(exc, "cannot make", target) from None
    final = target / plan.bag_name
    partial = target / f".{plan.bag_name}.partial"
    if final.exists():
        return _existing(site, conn, plan, final, progress)
    if not plan.segments:
        raise ConfigError(
            f"no recordings of {', '.join(plan.cameras)} between {iso(plan.window_start)} and "
            f"{iso(plan.window_end)} under {plan.root}"
            + (
                f" ({len(plan.pending)} still being written: run again in a minute)"
                if plan.pending
                else ""
            )
        )

    wanted = {f"data/{s.path}": s for s in plan.segments}
    for bag_rel in wanted:
        bagit_.payload_path(partial, bag_rel)  # a segment path never leaves the bag
    journal = _read_journal(partial / JOURNAL)
    reuse = {
        rel: done for rel, done in journal.items()
        if rel in wanted and done.size == wanted[rel].size and done.mtime_ns == wanted[rel].mtime_ns
        and _size_of(partial / rel) == done.size
    }  # fmt: skip
    to_copy = [s for rel, s in wanted.items() if rel not in reuse]
    _check_space(target, to_copy, len(wanted))

    try:
        (partial / "data").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(exc, "cannot write", partial) from None
    lock = _lock(partial)
    try:
        return _archive_locked(site, conn, plan, target, partial, final, wanted, journal, reuse, to_copy,
                               workers, progress, log, decode, started, began_at)  # fmt: skip
    finally:
        os.close(lock)


def _lock(partial: Path) -> int:
    """Hold an exclusive lock on the partial bag folder: one archiver per bag at a time."""
    import fcntl

    fd = os.open(partial, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StorageError(
            f"another ppe-tech archive is writing {partial}; wait for it to finish"
        ) from None
    return fd


def _archive_locked(site, conn, plan, target, partial, final, wanted, journal, reuse, to_copy, workers,
                    progress, log, decode, started, began_at) -> dict:  # fmt: skip
    try:
        if not (partial / "bagit.txt").is_file():
            atomic_write_text(partial / "bagit.txt", bagit_.BAGIT_TXT)
            fsync_dir(target)
        _clean_partial(partial, set(wanted))
    except OSError as exc:
        raise storage_error(exc, "cannot write", partial) from None

    total = plan.total_bytes
    if progress.on_total:
        progress.on_total(
            total
        )  # the finished files are re-read, the others copied: each byte once
    if reuse:
        if progress.on_phase:
            progress.on_phase("checking finished files")
        reuse, stale = _recheck(partial, reuse, workers, progress.on_bytes)
        to_copy += [wanted[rel] for rel in stale]
        log(f"resuming: {len(reuse)} finished files checked, {len(stale)} to copy again")
    if progress.on_phase:
        progress.on_phase("copying")
    from ppe_tech.recordings.mp4 import decodable

    decoding: dict[str, Future] = {}
    # decodes the copied files while the next ones are copied
    with ThreadPoolExecutor(max_workers=workers) as decoder:

        def decode_later(item: _Done) -> None:
            if decode:
                decoding[item.bag_path] = decoder.submit(decodable, partial / item.bag_path)

        try:
            copied = _copy_all(plan.root, partial, to_copy, journal_path=partial / JOURNAL,
                               workers=workers, on_bytes=progress.on_bytes, on_copied=decode_later)  # fmt: skip
        except BaseException:
            decoder.shutdown(wait=True, cancel_futures=True)
            raise
        done: dict[str, _Done] = {**reuse, **copied}
        if decode:
            if progress.on_phase:
                progress.on_phase("decoding first and last frames")
            _decode_missing(partial, done, decoding, workers)
    record = _finish(site, plan, partial, done, began_at, decode)
    try:
        (partial / JOURNAL).unlink(missing_ok=True)
        fsync_dir(partial)
        os.rename(partial, final)
        fsync_dir(target)
    except OSError as exc:
        raise storage_error(exc, "cannot finish", final) from None
    seconds = time.perf_counter() - started
    copied_bytes = sum(d.size for d in copied.values())
    record_id = _store(conn, record, final)
    result = {
        **record, "archive_id": record_id, "bag_path": str(final), "already_complete": False,
        "copied_files": len(copied), "reused_files": len(reuse), "seconds": round(seconds, 3),
        "bytes_per_second": round(copied_bytes / seconds) if seconds > 0 else None,
        "pending": [s.as_dict() for s in plan.pending],
        "window_open": plan.window_open,
    }  # fmt: skip
    result["pak_entry"] = _record_pak(site, conn, plan, record, began_at)
    return result


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
        raise storage_error(exc, "cannot check free space on", target) from None
    block = st.f_frsize or 4096
    needed = sum(-(-s.size // block) * block for s in to_copy)
    needed += (file_count * 200 // block + 16) * block  # manifests, bag-info, journal
    free = st.f_bavail * st.f_frsize
    if needed > free:
        raise NoSpaceError(
            f"{target}: {format_size(needed)} needed for the archive, {format_size(free)} free; "
            "nothing was copied"
        )


def _read_journal(path: Path) -> dict[str, _Done]:
    done: dict[str, _Done] = {}
    decoded: dict[str, tuple[bool, str]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return done
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror}") from None
    for line in lines:
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line after a crash
        if "decoded" in row:
            decoded[row["decoded"]] = (bool(row["ok"]), row.get("reason", ""))
        elif {"path", "src", "size", "mtime_ns", "sha256"} <= row.keys():
            done[row["path"]] = _Done(
                row["path"], row["src"], row["size"], row["mtime_ns"], row["sha256"]
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


def _copy_all(
    root, partial, segments, *, journal_path, workers, on_bytes, on_copied=None
) -> dict[str, _Done]:
    """Copy+hash files in parallel; fsync folders and append to the journal in batches."""
    done: dict[str, _Done] = {}
    if not segments:
        return done
    dirs: set[Path] = set()
    for seg in segments:
        dirs.add((partial / "data" / seg.path).parent)
    try:
        for folder in sorted(dirs):
            folder.mkdir(parents=True, exist_ok=True)
        journal = open(journal_path, "a", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise storage_error(exc, "cannot write", partial) from None

    def one(seg: Segment) -> tuple[_Done, Path, Path]:
        src = root / seg.path
        dst = partial / "data" / seg.path
        tmp = dst.with_name(f".{dst.name}{TMP_SUFFIX}")
        size, digest = bagit_.copy_and_hash(src, tmp, on_bytes, fsync=False)
        st = os.stat(src)
        if size != seg.size or st.st_size != seg.size or st.st_mtime_ns != seg.mtime_ns:
            tmp.unlink(missing_ok=True)
            raise StorageError(
                f"{src} changed while it was copied (still being written?); run again"
            )
        return _Done(f"data/{seg.path}", seg.path, size, seg.mtime_ns, digest), tmp, dst

    batch: list[tuple[_Done, Path, Path]] = []
    batch_bytes = 0

    def flush() -> None:
        """Durable in this order: each file fsynced, renamed; the folders fsynced; then the journal."""
        nonlocal batch, batch_bytes
        if not batch:
            return
        for _item, tmp, dst in batch:
            bagit_.fsync_path(tmp)
            os.rename(tmp, dst)
        for folder in {dst.parent for _item, _tmp, dst in batch}:
            fsync_dir(folder)
        for d, _tmp, _dst in batch:
            journal.write(json.dumps({"path": d.bag_path, "src": d.src, "size": d.size,
                                      "mtime_ns": d.mtime_ns, "sha256": d.sha256}) + "\n")  # fmt: skip
        journal.flush()
        os.fsync(journal.fileno())
        for d, _tmp, _dst in batch:
            done[d.bag_path] = d
            if on_copied is not None:
                on_copied(d)
        batch, batch_bytes = [], 0

    pool = ThreadPoolExecutor(max_workers=workers)
    pending: set[Future] = set()
    queue = list(reversed(segments))
    try:
        with journal:
            while queue or pending:
                while queue and len(pending) < workers * 2:  # a bounded window: memory stays flat
                    pending.add(pool.submit(one, queue.pop()))
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    item = future.result()
                    batch.append(item)
                    batch_bytes += item[0].size
                if len(batch) >= BATCH_FILES or batch_bytes >= BATCH_BYTES:
                    flush()
            flush()
    except OSError as exc:
        raise storage_error(exc, "cannot write", partial) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return done


def _decode_missing(
    partial: Path, done: dict[str, _Done], decoding: dict[str, Future], workers: int
) -> None:
    """Collect the decode checks started during the copy, run the missing ones, journal them."""
    from ppe_tech.recordings.mp4 import decodable

    todo = [d for d in done.values() if d.decodable is None]
    if not todo:
        return

    def one(d: _Done) -> _Done:
        future = decoding.get(d.bag_path)
        d.decodable, d.reason = future.result() if future else decodable(partial / d.bag_path)
        return d

    with (
        ThreadPoolExecutor(max_workers=workers) as pool,
        open(partial / JOURNAL, "a", encoding="utf-8") as journal,
    ):
        for d in pool.map(one, todo):
            journal.write(
                json.dumps({"decoded": d.bag_path, "ok": d.decodable, "reason": d.reason}) + "\n"
            )
        journal.flush()
        os.fsync(journal.fileno())


def _finish(
    site, plan: Plan, partial: Path, done: dict[str, _Done], began_at: datetime, decode: bool
) -> dict:
    by_src = {s.path: s for s in plan.segments}
    files = []
    undecodable = []
    for rel in sorted(done):
        d = done[rel]
        seg = by_src[d.src]
        if not decode and seg.status == "unreadable":  # not decoded, but known not to be an MP4
            d.decodable, d.reason = False, seg.reason
        files.append({
            "camera": seg.camera, "path": d.bag_path, "size": d.size, "sha256": d.sha256,
            "start": seg.start.isoformat(), "duration": seg.duration,
            "decodable": None if d.decodable is None else bool(d.decodable),
        })  # fmt: skip
        if d.decodable is False:
            reason = d.reason or seg.reason or "does not decode"
            if seg.status == "unreadable" and seg.reason:
                reason = (
                    f"{reason}; {seg.reason}" if d.reason and d.reason != seg.reason else seg.reason
                )
            undecodable.append({"camera": seg.camera, "path": d.bag_path, "reason": reason})
    manifest = bagit_.manifest_text([(d.bag_path, d.sha256) for d in done.values()])
    total = sum(d.size for d in done.values())
    point = site.config.point
    gaps = [g.as_dict() for g in plan.gaps]
    record = {
        "exam_id": plan.exam_id, "created_at": iso(utc_now()), "window_start": iso(plan.window_start),
        "window_end": iso(plan.window_end), "margin": format_duration(plan.margin), "zones": plan.zones,
        "cameras": plan.cameras, "files": files, "total_bytes": total, "file_count": len(files),
        "manifest_sha256": hashlib.sha256(manifest.encode()).hexdigest(), "gaps": gaps,
        "undecodable": undecodable,
    }  # fmt: skip
    info = [
        ("Source-Organization", point.name),
        ("Organization-Address", point.address),
        ("External-Identifier", f"{point.code}/{plan.exam_id}"),
        (
            "External-Description",
            f"Recordings of {', '.join(plan.zones)} cameras, exam {plan.exam_id} ({plan.subject})",
        ),
        ("Bagging-Date", began_at.date().isoformat()),
        ("Bag-Software-Agent", f"ppe-tech {__version__}"),
        ("Payload-Oxum", f"{total}.{len(files)}"),
        ("Bag-Size", format_size(total)),
        ("PPE-Point-Code", point.code),
        ("PPE-Region", point.region),
        ("PPE-Exam-Id", plan.exam_id),
        ("PPE-Exam-Subject", plan.subject),
        ("PPE-Window-Start", record["window_start"]),
        ("PPE-Window-End", record["window_end"]),
        ("PPE-Margin", record["margin"]),
        ("PPE-Zones", ", ".join(plan.zones)),
        *[("PPE-Camera", cam) for cam in plan.cameras],
        ("PPE-Gap-Count", str(len(gaps))),
        *[("PPE-Gap", f"{g['camera']} {g['start']} {g['end']} {g['seconds']:g}s") for g in gaps],
        (
            "PPE-Decode-Check",
            "first and last frame of every file" if decode else "skipped (--no-decode-check)",
        ),
        ("PPE-Undecodable-Count", str(len(undecodable))),
        *[("PPE-Undecodable", f"{u['path']}: {u['reason']}") for u in undecodable],
    ]
    info = [(label, site.redact(value)) for label, value in info]
    tag_files = {
        bagit_.MANIFEST: manifest,
        bagit_.BAG_INFO: bagit_.bag_info_text(info),
        ARCHIVE_JSON: json.dumps(record, ensure_ascii=False, indent=1) + "\n",
    }
    try:
        for name, text in tag_files.items():
            atomic_write_text(partial / name, text)
        tags = [(name, bagit_.hash_file(partial / name)) for name in ("bagit.txt", *tag_files)]
        atomic_write_text(partial / bagit_.TAGMANIFEST, bagit_.manifest_text(tags))
    except OSError as exc:
        raise storage_error(exc, "cannot write", partial) from None
    return record


def _store(conn: sqlite3.Connection, record: dict, bag: Path) -> int:
    from ppe_tech.store import transaction

    with transaction(conn):
        cur = conn.execute(
            "INSERT INTO recordings_archives (exam_id, created_at, window_start, window_end, "
            "margin_seconds, zones, cameras, bag_path, total_bytes, file_count, manifest_sha256, "
            "files, gaps, undecodable) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record["exam_id"], record["created_at"], record["window_start"], record["window_end"],
                _margin_seconds(record["margin"]), json.dumps(record["zones"]),
                json.dumps(record["cameras"]), str(bag), record["total_bytes"], record["file_count"],
                record["manifest_sha256"], json.dumps(record["files"]), json.dumps(record["gaps"]),
                json.dumps(record["undecodable"]),
            ),
        )  # fmt: skip
    return int(cur.lastrowid)


def _margin_seconds(text: str) -> float:
    from ppe_tech.timeutil import parse_duration

    return parse_duration(text).total_seconds()


def _existing(site, conn, plan: Plan, final: Path, progress: Progress) -> dict:
    """The bag is already there: check it fully, and make sure the store knows it."""
    if progress.on_phase:
        progress.on_phase("checking the existing bag")
    result = bagit_.verify_bag(final, on_bytes=progress.on_bytes, on_total=progress.on_total)
    if not result.valid:
        first = result.problems[0]
        raise VerificationFailed(
            f"{final} exists but fails verification ({len(result.problems)} problems, first: "
            f"{first.get('kind')} {first.get('path', first.get('message', ''))}); move it away to archive again"
        )
    try:
        record = json.loads((final / ARCHIVE_JSON).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise StorageError(f"{final}: cannot read {ARCHIVE_JSON}: {exc}") from None
    if record.get("exam_id") != plan.exam_id:
        raise ConfigError(f"{final} holds exam {record.get('exam_id')!r}, not {plan.exam_id!r}")
    row = conn.execute(
        "SELECT id FROM recordings_archives WHERE bag_path = ? AND manifest_sha256 = ?",
        (str(final), record["manifest_sha256"]),
    ).fetchone()
    archive_id = row["id"] if row else _store(conn, record, final)
    pak = None if row else _record_pak(site, conn, plan, record, utc_now())
    return {**record, "archive_id": archive_id, "bag_path": str(final), "already_complete": True,
            "copied_files": 0, "reused_files": record["file_count"], "seconds": round(result.seconds, 3),
            "bytes_per_second": None, "pending": [s.as_dict() for s in plan.pending], "pak_entry": pak,
            "window_open": plan.window_open}  # fmt: skip


def _record_pak(site, conn, plan: Plan, record: dict, began_at: datetime) -> int | None:
    """Write the copy into the video access (PAK) log as an export of recordings, when it exists."""
    try:
        from ppe_tech.pak.journal import record_action
    except ImportError:
        return None
    gaps = len(record["gaps"])
    note = (
        f"Exam {plan.exam_id}: {record['file_count']} files, {format_size(record['total_bytes'])}, "
        f"cameras {', '.join(plan.cameras)}, window {record['window_start']}..{record['window_end']}, "
        f"gaps {gaps}, undecodable {len(record['undecodable'])}, manifest sha256 {record['manifest_sha256'][:16]}"
    )
    entry = record_action(site, conn, action="export", rooms=", ".join(plan.rooms), start=began_at,
                          end=utc_now(), note=note)  # fmt: skip
    return entry.get("seq")
