"""``recordings watch``: a live monitor of the recording root during the exam.

Segments are indexed as the recorder closes them (watchdog on inotify:
close-after-write and move-into events; a full rescan every ``rescan`` seconds
catches anything missed). Every ``interval`` the monitor checks:

- each camera's activity: the newest segment's ``min(end, mtime)``; older than
  ``stall`` seconds -> alert ``stalled`` (once), and ``resumed`` when segments come back;
  cameras in ppe.yaml that never produced a segment count from the watch's start;
- a new segment starting more than ``gap_tolerance`` after the previous one's end ->
  alert ``gap``; a closed file that is not a complete MP4 -> alert ``unreadable``;
- free space on the recording disk under ``min_free`` -> alert ``low_space`` (once);
- the root itself: gone (a lost mount) -> alert ``root_lost``, then waits for it and
  rescans when it comes back (``root_back``).

Each alert goes to the ``emit`` callback (the CLI prints it on stderr), to the
store (``recordings_alerts``), and to the optional alert command (an argv list,
never a shell; ``{kind}``, ``{camera}``, ``{message}`` in it are replaced, and
the same values are in $PPE_ALERT_KIND, $PPE_ALERT_CAMERA, $PPE_ALERT_MESSAGE).
"""

from __future__ import annotations

import os
import queue
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ppe_tech.i18n import _, ngettext
from ppe_tech.recordings.index import Segment, index_site, read_segment, save_segments, site_layout
from ppe_tech.recordings.results import store_alert
from ppe_tech.timeutil import human_duration, iso, local_clock, utc_now


def activity(seg: Segment) -> datetime:
    """When a segment shows the camera last recorded: its end, but never later than its mtime."""
    mtime = datetime.fromtimestamp(seg.mtime_ns / 1e9, UTC)
    return min(seg.end, mtime) if seg.ok else mtime


class Watcher:
    def __init__(
        self,
        site,
        conn: sqlite3.Connection | None,
        *,
        emit: Callable[[dict], None],
        stall: float | None = None,
        interval: float = 1.0,
        min_free: int | None = None,
        alert_command: list[str] | None = None,
        rescan: float = 60.0,
    ):
        rec = site.config.recordings
        self.site = site
        self.conn = conn
        self.emit = emit
        self.stall = rec.stall.total_seconds() if stall is None else stall
        self.tolerance = rec.gap_tolerance.total_seconds()
        self.settle = rec.settle.total_seconds()
        self.interval = interval
        self.min_free = rec.min_free if min_free is None else min_free
        self.alert_command = alert_command if alert_command is not None else rec.alert_command
        self.rescan_every = rescan
        self.root, self.layout, self.tz = site_layout(site)
        self.root_key = (
            str(self.root.resolve()) if self.root.exists() else str(self.root.absolute())
        )
        self.events: queue.Queue[str] = queue.Queue()
        # files a full scan found still being written: their close event may have come before
        # the observer was watching, so they are looked at again once they settle
        self.unsettled: set[str] = set()
        self.observer = None
        self.root_present = self.ever_present = self.lost = False
        self.was_mount: bool | None = None  # the root was a mount point when first seen
        self.started = utc_now()
        self.last_end: dict[str, datetime] = {}
        self.last_activity: dict[str, datetime] = {c.id: self.started for c in site.config.cameras}
        self.stalled: set[str] = set()
        self.low_space = False
        self.children: list[tuple[subprocess.Popen, float]] = []
        self.alerts: list[dict] = []
        self._last_rescan = 0.0

    # -- alerts ------------------------------------------------------------------------------
    def alert(self, kind: str, camera: str | None, text: str, **details) -> None:
        """Raise an alert; ``text`` says what happened without naming the camera."""
        text = self.site.redact(text)
        message = f"{camera}: {text}" if camera else text
        record = {
            "at": iso(utc_now()),
            "kind": kind,
            "camera": camera,
            "message": message,
            "text": text,
            "details": details,
        }
        self.alerts.append(record)
        if self.conn is not None:
            store_alert(self.conn, record)
        self.emit(record)
        if self.alert_command:
            values = {"kind": kind, "camera": camera or "", "message": message}
            argv = [part.format_map(_Missing(values)) for part in self.alert_command]
            env = {
                **os.environ,
                "PPE_ALERT_KIND": kind,
                "PPE_ALERT_CAMERA": camera or "",
                "PPE_ALERT_MESSAGE": message,
            }
            try:
                child = subprocess.Popen(
                    argv,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                self.children.append((child, time.monotonic()))
            except OSError as exc:
                text = _("cannot run {program}: {reason}").format(
                    program=argv[0], reason=exc.strerror
                )
                self.emit(
                    {
                        "at": record["at"],
                        "kind": "alert_command_failed",
                        "camera": None,
                        "message": text,
                        "text": text,
                        "details": {},
                    }
                )

    def _reap(self, final: bool = False) -> None:
        alive = []
        for child, started in self.children:
            if child.poll() is not None:
                continue
            if final or time.monotonic() - started > 30:
                child.kill()
                child.wait()
            else:
                alive.append((child, started))
        self.children = alive

    # -- the root and its events ---------------------------------------------------------------
    def _start_observer(self) -> None:
        from watchdog.events import FileSystemEventHandler

        events = self.events

        class Handler(FileSystemEventHandler):
            def on_closed(self, event):  # IN_CLOSE_WRITE: the recorder finished the file
                if not event.is_directory:
                    events.put(os.fsdecode(event.src_path))

            def on_moved(self, event):  # a finished segment moved in (Frigate moves from its cache)
                if not event.is_directory:
                    events.put(os.fsdecode(event.dest_path))

        try:
            from watchdog.observers import Observer

            observer = Observer()
            observer.schedule(Handler(), str(self.root), recursive=True)
            observer.start()
        except OSError:  # no inotify (or out of watches): poll instead
            from watchdog.observers.polling import PollingObserver

            observer = PollingObserver(timeout=self.interval)
            observer.schedule(Handler(), str(self.root), recursive=True)
            observer.start()
        self.observer = observer

    def _stop_observer(self) -> None:
        if self.observer is not None:
            try:
                self.observer.stop()
                self.observer.join(timeout=5)
            except Exception:  # noqa: BLE001 - a dead emitter thread must not stop the watch
                pass
            self.observer = None

    def _root_ok(self) -> bool:
        """The root is there; if it was a mount point when first seen, it still is one.

        A lost mount usually leaves its empty mount-point folder behind: that is not the root.
        """
        try:
            if not self.root.is_dir():
                return False
            mount = os.path.ismount(self.root)
        except OSError:
            return False
        if self.was_mount is None:
            self.was_mount = mount
        return mount or not self.was_mount

    def _full_scan(self, initial: bool) -> None:
        try:
            index = index_site(self.site, self.conn, now=utc_now())
        except Exception:  # noqa: BLE001 - the root vanished during the walk: next tick sees it
            return
        if initial:  # a camera with segments is as fresh as its newest one, not as the watch
            recorded = {c for c in index.cameras() if any(seg.ok for seg in index.of(c))}
            for camera in recorded | {seg.camera for seg in index.pending}:
                self.last_activity.pop(camera, None)
        for seg in index.pending:  # still being written: the camera is recording
            self._seen(seg.camera, datetime.fromtimestamp(seg.mtime_ns / 1e9, UTC))
            self.unsettled.add(str(self.root / seg.path))
        for camera in index.cameras():
            segs = [s for s in index.of(camera) if s.ok]
            if not segs:
                continue
            newest = segs[-1]
            if initial or camera not in self.last_end:
                self.last_end[camera] = newest.end
                self._seen(camera, activity(newest))
            else:
                for seg in segs:
                    if seg.start > self.last_end[camera] - _seconds(1):
                        self._segment(seg)
        self._last_rescan = time.monotonic()

    def _seen(self, camera: str, moment: datetime) -> None:
        if moment > self.last_activity.get(camera, datetime.min.replace(tzinfo=UTC)):
            self.last_activity[camera] = moment
        if (
            camera in self.stalled
            and (utc_now() - self.last_activity[camera]).total_seconds() <= self.stall
        ):
            self.stalled.discard(camera)
            self.alert("resumed", camera, _("segments are coming again"))

    def _segment(self, seg: Segment) -> None:
        if not seg.ok:
            text = _("{path} is not a readable MP4 ({reason})").format(
                path=seg.path, reason=seg.reason
            )
            self.alert("unreadable", seg.camera, text, path=seg.path)
            return
        previous = self.last_end.get(seg.camera)
        if previous is not None and (seg.start - previous).total_seconds() > self.tolerance:
            seconds = (seg.start - previous).total_seconds()
            text = _("gap of {duration} from {start} to {end}").format(
                duration=human_duration(seconds),
                start=local_clock(previous, self.site.tz),
                end=local_clock(seg.start, self.site.tz),
            )
            self.alert(
                "gap", seg.camera, text, start=iso(previous), end=iso(seg.start), seconds=seconds
            )
        if previous is None or seg.end > previous:
            self.last_end[seg.camera] = seg.end
        self._seen(seg.camera, activity(seg))

    def _drain(self) -> None:
        fresh: list[Segment] = []
        while True:
            try:
                path = self.events.get_nowait()
            except queue.Empty:
                break
            self.unsettled.discard(path)
            try:
                relative = Path(path).relative_to(self.root).as_posix()
            except ValueError:
                continue
            if any(part.startswith(".") for part in relative.split("/")):
                continue
            parsed = self.layout.parse(relative, self.tz)
            if parsed is None:
                continue
            try:
                st = os.stat(path)
            except OSError:
                continue
            seg = read_segment(self.root, relative, parsed[0], parsed[1], st)
            fresh.append(seg)
        for seg in sorted(fresh, key=lambda s: s.start):
            self._segment(seg)
        if fresh and self.conn is not None:
            save_segments(self.conn, self.root_key, fresh, [])

    def _requeue_settled(self) -> None:
        now = time.time()
        for path in list(self.unsettled):
            try:
                age = now - os.stat(path).st_mtime
            except OSError:  # gone: renamed or deleted by the recorder
                self.unsettled.discard(path)
                continue
            if age >= self.settle:
                self.events.put(path)

    # -- checks ------------------------------------------------------------------------------
    def _check_stalls(self) -> None:
        now = utc_now()
        for camera, last in self.last_activity.items():
            age = (now - last).total_seconds()
            if age > self.stall and camera not in self.stalled:
                self.stalled.add(camera)
                text = _("no new segment for {duration} (since {since}, limit {limit})").format(
                    duration=human_duration(age),
                    since=local_clock(last, self.site.tz, seconds=False),
                    limit=human_duration(self.stall),
                )
                self.alert("stalled", camera, text, last=iso(last), seconds=round(age, 1))

    def _check_space(self) -> None:
        try:
            st = os.statvfs(self.root)
        except OSError:
            return
        free = st.f_bavail * st.f_frsize
        if free < self.min_free and not self.low_space:
            self.low_space = True
            from ppe_tech.fsutil import format_size

            text = _("recording disk: {free} free, under {limit}").format(
                free=format_size(free), limit=format_size(self.min_free)
            )
            self.alert("low_space", None, text, free=free, min_free=self.min_free)
        elif free >= self.min_free * 1.05:
            self.low_space = False

    def tick(self) -> None:
        present = self._root_ok()
        if present and not self.root_present:
            # watch first, then scan: a segment closed in between is seen by one or the other
            self._start_observer()
            self._full_scan(initial=not self.ever_present)
            if self.lost:  # announced once it is watched again
                self.alert(
                    "root_back", None, _("recording root {root} is back").format(root=self.root)
                )
            self.lost = False
            self.root_present = self.ever_present = True
        elif not present and not self.lost:
            self._stop_observer()
            self.root_present, self.lost = False, True
            text = _("recording root {root} is not there (unmounted?)").format(root=self.root)
            self.alert("root_lost", None, text)
        if self.root_present:
            self._requeue_settled()
            self._drain()
            if time.monotonic() - self._last_rescan > self.rescan_every:
                self._full_scan(initial=False)
            self._check_space()
        self._check_stalls()
        self._reap()

    def run(
        self,
        stop: threading.Event,
        until: float | None = None,
        after_tick: Callable[[], None] | None = None,
    ) -> None:
        """Tick every ``interval`` until ``stop`` is set (or ``until``, a monotonic deadline);
        ``after_tick`` is called after each tick (the CLI prints the tick's alerts grouped)."""
        try:
            while not stop.is_set():
                self.tick()
                if after_tick is not None:
                    after_tick()
                if until is not None and time.monotonic() >= until:
                    break
                stop.wait(self.interval)
        finally:
            self._stop_observer()
            self._reap(final=True)


def kind_label(kind: str) -> str:
    """An alert's kind as printed: the code itself in English, in words elsewhere."""
    labels = {
        "stalled": _("stalled"),
        "resumed": _("resumed"),
        "gap": _("gap"),
        "unreadable": _("unreadable"),
        "low_space": _("low_space"),
        "root_lost": _("root_lost"),
        "root_back": _("root_back"),
        "alert_command_failed": _("alert_command_failed"),
    }
    return labels.get(kind, kind)


def alert_lines(alerts: list[dict]) -> list[str]:
    """The lines a person reads: one per kind and text, so the same alert raised for 22
    cameras in one tick is one line naming them all, and each camera is named once."""
    alert_word = _("ALERT")
    groups: dict[tuple[str, str], list[str]] = {}
    for alert in alerts:
        groups.setdefault((alert["kind"], alert["text"]), []).append(alert["camera"])
    lines = []
    for (kind, text), cameras in groups.items():
        named = [camera for camera in cameras if camera]
        if len(named) > 1:
            count = ngettext("{n} camera", "{n} cameras", len(named)).format(n=len(named))
            who = f" {', '.join(named)} ({count})"
        else:
            who = f" {named[0]}" if named else ""
        lines.append(f"{alert_word} {kind_label(kind)}{who}: {text}")
    return lines


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _seconds(n: float):
    from datetime import timedelta

    return timedelta(seconds=n)
