"""The segment index: every recording file under the root, its camera, start and duration.

The start comes from the path (through the layout pattern), the duration from
the container (``mp4.segment_duration``). Results are cached in the store by
path, size and mtime, so indexing a root again costs one ``stat`` per file. A
file modified within ``settle`` seconds, or whose MP4 is not complete yet and
young, is *pending* (still being written) and left for a later pass; an old
file that is not a complete MP4 is *unreadable*, which the gap finder treats as
a hole and the archiver copies and reports.
"""

from __future__ import annotations

import os
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from ppe_tech.errors import StorageError
from ppe_tech.fsutil import storage_error
from ppe_tech.i18n import _
from ppe_tech.recordings.layout import Layout, compile_layout
from ppe_tech.recordings.mp4 import NotMp4, segment_duration


@dataclass(frozen=True, kw_only=True)
class Segment:
    camera: str
    path: str  # relative to the root, '/'-separated
    start: datetime  # UTC
    duration: float | None  # seconds; None when unreadable
    size: int
    mtime_ns: int
    status: str = "ok"  # ok | unreadable | pending
    reason: str = ""

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.duration or 0)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict:
        return {
            "camera": self.camera,
            "path": self.path,
            "start": self.start.isoformat(),
            "duration": self.duration,
            "size": self.size,
            "status": self.status,
            "reason": self.reason,
        }


@dataclass
class Index:
    root: Path
    segments: dict[str, list[Segment]] = field(default_factory=dict)  # camera -> sorted by start
    pending: list[Segment] = field(default_factory=list)
    ignored: int = 0  # files that do not fit the layout
    parsed: int = 0  # files whose container was read in this pass (the rest came from the cache)

    def cameras(self) -> list[str]:
        return sorted(self.segments)

    def of(self, camera: str) -> list[Segment]:
        return self.segments.get(camera, [])

    def unreadable(self) -> list[Segment]:
        return [s for segs in self.segments.values() for s in segs if s.status == "unreadable"]

    def overlapping(self, cameras: list[str], start: datetime, end: datetime) -> list[Segment]:
        """Segments of ``cameras`` that overlap [start, end) (unreadable ones: starting in it)."""
        chosen = []
        for camera in cameras:
            for seg in self.of(camera):
                if seg.ok and seg.start < end and seg.end > start:
                    chosen.append(seg)
                elif not seg.ok and start <= seg.start < end:
                    chosen.append(seg)
        return chosen


@dataclass(frozen=True)
class Gap:
    camera: str
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def as_dict(self) -> dict:
        return {
            "camera": self.camera,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "seconds": round(self.seconds, 3),
        }


def find_gaps(
    camera: str, segments: list[Segment], start: datetime, end: datetime, tolerance: float
) -> list[Gap]:
    """Holes longer than ``tolerance`` seconds in [start, end) not covered by readable segments."""
    gaps: list[Gap] = []
    cursor = start
    for seg in sorted((s for s in segments if s.ok), key=lambda s: s.start):
        if seg.end <= cursor:
            continue
        if seg.start >= end:
            break
        if (seg.start - cursor).total_seconds() > tolerance:
            gaps.append(Gap(camera, cursor, seg.start))
        cursor = max(cursor, seg.end)
        if cursor >= end:
            break
    if (end - cursor).total_seconds() > tolerance:
        gaps.append(Gap(camera, cursor, end))
    return gaps


def coverage(segments: list[Segment], start: datetime, end: datetime) -> float:
    """Fraction (0..1) of [start, end) covered by readable segments."""
    total = (end - start).total_seconds()
    if total <= 0:
        return 1.0
    covered, cursor = 0.0, start
    for seg in sorted((s for s in segments if s.ok), key=lambda s: s.start):
        lo, hi = max(seg.start, cursor), min(seg.end, end)
        if hi > lo:
            covered += (hi - lo).total_seconds()
            cursor = hi
    return min(1.0, covered / total)


def site_layout(site) -> tuple[Path, Layout, tzinfo]:
    rec = site.config.recordings
    return site.path(rec.root), compile_layout(rec.layout), ZoneInfo(rec.timezone)


def index_site(site, conn: sqlite3.Connection | None, now: datetime | None = None) -> Index:
    root, layout, tz = site_layout(site)
    rec = site.config.recordings
    return scan(root, layout, tz, conn, now=now, settle=rec.settle.total_seconds())


def scan(
    root: Path,
    layout: Layout,
    tz: tzinfo = UTC,
    conn: sqlite3.Connection | None = None,
    *,
    now: datetime | None = None,
    settle: float = 15.0,
) -> Index:
    """Index every segment under ``root`` (StorageError if the root is missing)."""
    root = Path(root)
    if not root.is_dir():
        raise StorageError(_("recording root {root} is not there (not mounted?)").format(root=root))
    wall = (now or datetime.now(UTC)).timestamp()
    key = str(root.resolve())
    cached: dict[str, sqlite3.Row] = {}
    if conn is not None:
        cached = {
            row["path"]: row
            for row in conn.execute("SELECT * FROM recordings_segments WHERE root = ?", (key,))
        }
    index = Index(root)
    found: dict[str, list[Segment]] = defaultdict(list)
    fresh: list[Segment] = []
    seen: set[str] = set()
    for relative, st in _walk(root):
        parsed = layout.parse(relative, tz)
        if parsed is None:
            index.ignored += 1
            continue
        camera, start = parsed
        seen.add(relative)
        row = cached.get(relative)
        if row is not None and row["size"] == st.st_size and row["mtime_ns"] == st.st_mtime_ns:
            seg = _segment(
                camera,
                relative,
                start,
                st,
                duration=row["duration"],
                status=row["status"],
                reason=row["reason"],
            )
            found[camera].append(seg)
            continue
        young = wall - st.st_mtime_ns / 1e9 < settle
        if young:
            index.pending.append(_segment(camera, relative, start, st, status="pending"))
            continue
        seg = read_segment(root, relative, camera, start, st)
        index.parsed += 1
        found[camera].append(seg)
        fresh.append(seg)
    for camera, segs in found.items():
        segs.sort(key=lambda s: (s.start, s.path))
        index.segments[camera] = segs
    if conn is not None:
        gone = [p for p in cached if p not in seen]
        if fresh or gone:
            save_segments(conn, key, fresh, gone)
    return index


def read_segment(
    root: Path, relative: str, camera: str, start: datetime, st: os.stat_result
) -> Segment:
    try:
        duration = segment_duration(root / relative)
        return _segment(camera, relative, start, st, duration=duration)
    except NotMp4 as exc:
        return _segment(camera, relative, start, st, status="unreadable", reason=str(exc))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return _segment(camera, relative, start, st, status="unreadable", reason=reason)


def _segment(
    camera: str,
    relative: str,
    start: datetime,
    st: os.stat_result,
    *,
    duration: float | None = None,
    status: str = "ok",
    reason: str = "",
) -> Segment:
    return Segment(
        camera=camera,
        path=relative,
        start=start,
        duration=duration,
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
        status=status,
        reason=reason,
    )


def save_segments(
    conn: sqlite3.Connection, root_key: str, fresh: list[Segment], gone: list[str]
) -> None:
    from ppe_tech.store import transaction

    with transaction(conn):
        conn.executemany(
            "INSERT OR REPLACE INTO recordings_segments "
            "(root, path, size, mtime_ns, camera, start, duration, status, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    root_key,
                    s.path,
                    s.size,
                    s.mtime_ns,
                    s.camera,
                    s.start.isoformat(),
                    s.duration,
                    s.status,
                    s.reason,
                )
                for s in fresh
            ],
        )
        conn.executemany(
            "DELETE FROM recordings_segments WHERE root = ? AND path = ?",
            [(root_key, p) for p in gone],
        )


def _walk(root: Path):
    """(relative path, stat) of every regular file under root, without following symlinks out."""
    stack = [("", root)]
    while stack:
        prefix, folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue  # removed while we walked (a rotated day folder)
        except OSError as exc:
            raise storage_error(exc, _("cannot read"), folder) from None
        for entry in entries:
            if entry.name.startswith("."):
                continue  # temporary files of recorders and of ppe-tech
            relative = f"{prefix}{entry.name}"
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((relative + "/", Path(entry.path)))
                elif entry.is_file(follow_symlinks=False):
                    yield relative, entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue


def free_space(path: Path) -> int | None:
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def newest_activity(index: Index, camera: str) -> datetime | None:
    """When the camera last recorded: its newest segment's end (never later than the file's mtime)."""
    moments = []
    for seg in index.of(camera):
        mtime = datetime.fromtimestamp(seg.mtime_ns / 1e9, UTC)
        moments.append(min(seg.end, mtime) if seg.ok else mtime)
    moments += [
        datetime.fromtimestamp(s.mtime_ns / 1e9, UTC) for s in index.pending if s.camera == camera
    ]
    return max(moments) if moments else None
