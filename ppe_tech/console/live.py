"""What the console keeps live while it runs: alerts, camera looks, the recording watch.

Background work runs in daemon threads, each with its own SQLite connection (a
connection belongs to the thread that opened it). Everything a page shows live goes
through ``AlertHub``: a thread-safe, numbered list that the SSE stream reads.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ppe_tech.console import data
from ppe_tech.timeutil import iso, utc_now

MAX_ALERTS = 200


@dataclass(frozen=True)
class Alert:
    id: int
    at: str
    kind: str
    message: str
    camera: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "kind": self.kind,
            "message": self.message,
            "camera": self.camera,
        }


class AlertHub:
    """Numbered alerts, newest last; readers ask for those after the last id they saw."""

    def __init__(self, redact: Callable[[str], str]):
        self._redact = redact
        self._alerts: deque[Alert] = deque(maxlen=MAX_ALERTS)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def publish(self, kind: str, message: str, camera: str | None = None) -> Alert:
        with self._lock:
            alert = Alert(next(self._ids), iso(utc_now()), kind, self._redact(message), camera)
            self._alerts.append(alert)
        return alert

    def since(self, last_id: int) -> list[Alert]:
        with self._lock:
            return [a for a in self._alerts if a.id > last_id]

    def latest(self, limit: int = 10) -> list[Alert]:
        with self._lock:
            return list(self._alerts)[-limit:][::-1]

    @property
    def last_id(self) -> int:
        with self._lock:
            return self._alerts[-1].id if self._alerts else 0


@dataclass
class Look:
    """The console's newest look at one camera (a light check), kept in memory only."""

    at: str
    status: str
    findings: list[dict[str, Any]]
    jpeg: bytes | None
    jpeg_at: str | None


class CameraLooks:
    """Periodic light checks (reachability, fps, one snapshot) of every camera.

    Only looks with a new picture replace the remembered snapshot, so a camera that went
    offline keeps its last picture with that picture's own time: the page shows its age.
    """

    def __init__(self, site, hub: AlertHub, *, interval: float, sample: float = 1.0):
        self.site, self.hub, self.interval, self.sample = site, hub, interval, sample
        self.looks: dict[str, Look] = {}
        self._lock = threading.Lock()

    def check_now(self) -> None:
        for result in data.light_check(self.site, self.sample):
            self._remember(result)

    def _remember(self, result: dict[str, Any]) -> None:
        now = iso(utc_now())
        with self._lock:
            before = self.looks.get(result["id"])
            jpeg = result.get("snapshot_jpeg")
            self.looks[result["id"]] = Look(
                at=now,
                status=result["status"],
                findings=result["findings"],
                jpeg=jpeg or (before.jpeg if before else None),
                jpeg_at=now if jpeg else (before.jpeg_at if before else None),
            )
        offline = data.is_offline(result["findings"])
        was_offline = before is not None and data.is_offline(before.findings)
        if offline and not was_offline:
            reason = result["findings"][0]["message"]
            self.hub.publish("camera_offline", f"{result['id']}: {reason}", result["id"])

    def get(self, camera_id: str) -> Look | None:
        with self._lock:
            return self.looks.get(camera_id)

    def run(self, stop: threading.Event) -> None:
        """A look at once, then one every ``interval`` until ``stop``."""
        while not stop.is_set():
            try:
                self.check_now()
            except Exception as exc:  # the console goes on; the alert says the look failed
                self.hub.publish("console_error", f"camera check failed: {exc}")
            stop.wait(self.interval)


@dataclass
class Verification:
    """A ``cameras verify`` started from the page: its progress, then its run id."""

    total: int
    done: list[str] = field(default_factory=list)
    run_id: int | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "done": len(self.done),
            "run_id": self.run_id,
            "error": self.error,
            "finished": self.run_id is not None or self.error is not None,
        }


class Verifications:
    """At most one verification at a time (they share the cameras and the PAK log)."""

    def __init__(self, site, connect: Callable[[], Any], hub: AlertHub):
        self.site, self.connect, self.hub = site, connect, hub
        self.current: Verification | None = None
        self._lock = threading.Lock()

    def start(self, camera_ids: list[str]) -> Verification:
        for camera_id in camera_ids:
            self.site.camera(camera_id)  # unknown id: ConfigError before anything starts
        with self._lock:
            if self.current and not self.current.to_json()["finished"]:
                return self.current
            total = len(camera_ids) or len(self.site.config.cameras)
            self.current = job = Verification(total)
        threading.Thread(target=self._run, args=(job, camera_ids), daemon=True).start()
        return job

    def _run(self, job: Verification, camera_ids: list[str]) -> None:
        def on_event(camera_id: str, phase: str, _data: dict) -> None:
            if phase == "done":
                job.done.append(camera_id)

        conn = self.connect()
        try:
            run = data.verify_and_store(self.site, conn, camera_ids, on_event)
            job.run_id = run["run_id"]
            for cam in run["cameras"]:
                if data.is_offline(cam["findings"]):
                    self.hub.publish(
                        "camera_offline", f"{cam['id']}: {cam['findings'][0]['message']}", cam["id"]
                    )
        except Exception as exc:
            job.error = str(getattr(exc, "message", exc))
        finally:
            conn.close()


def run_recording_watch(
    site, connect: Callable[[], Any], hub: AlertHub, stop: threading.Event, interval: float = 1.0
) -> None:
    """``recordings watch`` inside the console: its alerts go to the store and to every page."""
    conn = connect()
    try:
        watcher = data.make_watcher(
            site, conn, emit=lambda a: hub.publish(a["kind"], a["message"], a["camera"])
        )
        watcher.interval = interval
        watcher.run(stop)
    except Exception as exc:
        hub.publish("console_error", f"recording watch stopped: {getattr(exc, 'message', exc)}")
    finally:
        conn.close()


def run_deadline_watch(
    site,
    connect,
    hub: AlertHub,
    stop: threading.Event,
    *,
    warn_before: float = 15 * 60,
    every: float = 30.0,
) -> None:
    """Alert once when the deadline is ``warn_before`` away and some room is not ready."""
    warned: set[str] = set()
    while not stop.wait(every):
        clock = data.exam_clock(site)
        if clock.deadline is None or clock.exam.id in warned:
            continue
        left = (clock.deadline - utc_now()).total_seconds()
        if 0 < left <= warn_before:
            conn = connect()
            try:
                rooms = data.rooms_readiness(site, conn)
            finally:
                conn.close()
            waiting = [r["label"] for r in rooms if r["state"] != "ready"]
            if waiting:
                warned.add(clock.exam.id)
                hub.publish(
                    "deadline", f"deadline in {left / 60:.0f} min; not ready: {', '.join(waiting)}"
                )


def start_thread(target, *args, name: str) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()
    return thread
