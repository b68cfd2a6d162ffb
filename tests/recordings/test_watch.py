"""recordings watch: real segments written in real time; a camera stops; the alert comes in time."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ppe_tech.recordings.results import recent_alerts
from ppe_tech.store import connect
from tests.conftest import REPO, minimal_config, tmpfs_at, write_site
from tests.recordings.conftest import frigate_path

STALL = 4.0


class WatchProcess:
    def __init__(self, site: Path, *args: str):
        argv = [
            sys.executable,
            "-m",
            "ppe_tech",
            "--site",
            str(site),
            "recordings",
            "watch",
            "--json",
            "--stall",
            f"{STALL:g}s",
            "--interval",
            "0.25s",
            *args,
        ]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.alerts: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.alerts.put((time.monotonic(), json.loads(line)))

    def wait_for(self, kind: str, camera: str | None = None, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                at, alert = self.alerts.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if alert["kind"] == kind and (camera is None or alert["camera"] == camera):
                return at, alert
        raise AssertionError(f"no {kind} alert for {camera} within {timeout}s")

    def drain(self) -> list[dict]:
        out = []
        while not self.alerts.empty():
            out.append(self.alerts.get()[1])
        return out


class Recorder:
    """Writes one real 10-s segment per camera every second, named so that it ends now."""

    def __init__(self, root: Path, segment: Path, cameras: list[str]):
        self.root, self.segment, self.cameras = root, segment, set(cameras)
        self.last_written: dict[str, float] = {}
        self.stop = threading.Event()
        self.skip_ahead: dict[str, float] = {}
        self.thread = threading.Thread(target=self._run, daemon=True)

    def write(self, camera: str) -> None:
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=10)
        start += timedelta(seconds=self.skip_ahead.get(camera, 0))
        final = self.root / frigate_path(camera, start)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.root / ".cache" / f"{camera}.mp4"  # like Frigate: written aside, moved in closed
        tmp.parent.mkdir(exist_ok=True)
        shutil.copyfile(self.segment, tmp)
        os.replace(tmp, final)
        self.last_written[camera] = time.monotonic()

    def _run(self) -> None:
        while not self.stop.is_set():
            for camera in sorted(self.cameras):
                self.write(camera)
            self.stop.wait(1.0)


@pytest.fixture
def live(site_dir, tmp_path, segments):
    root = tmp_path / "live"
    root.mkdir()
    cams = [{"id": c, "zone": "corridor", "source": "x"} for c in ("cam-a", "cam-b")]
    write_site(
        site_dir, minimal_config(cameras=cams, recordings={"root": str(root), "min_free": "1K"})
    )
    recorder = Recorder(root, segments[0], ["cam-a", "cam-b"])
    yield site_dir, root, recorder
    recorder.stop.set()


def test_camera_stops_alert_within_stall_seconds_then_sigterm(live):
    site, root, recorder = live
    recorder.thread.start()
    time.sleep(1.5)
    watch = WatchProcess(site)
    try:
        time.sleep(3.0)
        assert watch.drain() == []  # both cameras record: no alert
        recorder.cameras.discard("cam-b")  # cam-b stops
        stopped = recorder.last_written["cam-b"]
        at, alert = watch.wait_for("stalled", "cam-b", timeout=STALL + 10)
        assert at - stopped <= STALL + 2.5, f"alert after {at - stopped:.1f}s, limit {STALL}s"
        assert "cam-b" in alert["message"]
        # a jump in cam-a's segment times is a gap
        recorder.skip_ahead["cam-a"] = 30
        at, alert = watch.wait_for("gap", "cam-a", timeout=8)
        assert alert["details"]["seconds"] >= 20
        # cam-b comes back
        recorder.cameras.add("cam-b")
        watch.wait_for("resumed", "cam-b", timeout=8)
        assert not [a for a in watch.drain() if a["kind"] == "stalled" and a["camera"] == "cam-a"]
    finally:
        watch.proc.send_signal(signal.SIGTERM)
        code = watch.proc.wait(timeout=10)
        stderr = watch.proc.stderr.read()
    assert code == 0, stderr
    assert "ALERT stalled cam-b" in stderr and "stopped;" in stderr and "Traceback" not in stderr
    kinds = [a["kind"] for a in recent_alerts(connect(site / "ppe.db"))]
    assert "stalled" in kinds and "gap" in kinds and "resumed" in kinds


def test_root_disappears_and_comes_back(live, tmp_path):
    site, root, recorder = live
    recorder.write("cam-a")
    recorder.write("cam-b")
    old = time.time() - 30  # closed a while ago: indexed at start (young files are left for later)
    for path in root.rglob("*.mp4"):
        os.utime(path, (old, old))
    watch = WatchProcess(site, "--stall", "60s")
    try:
        time.sleep(1.5)
        away = tmp_path / "unmounted"
        root.rename(away)  # the mount is lost
        watch.wait_for("root_lost", timeout=8)
        away.rename(root)
        watch.wait_for("root_back", timeout=8)
        time.sleep(0.5)
        recorder.skip_ahead["cam-a"] = 40  # segments after the outage are indexed again
        recorder.write("cam-a")
        watch.wait_for("gap", "cam-a", timeout=8)
        assert watch.proc.poll() is None
    finally:
        watch.proc.send_signal(signal.SIGINT)
        code = watch.proc.wait(timeout=10)
        print(watch.proc.stderr.read())
    assert code == 0


def test_segment_closed_before_the_watch_started_is_indexed_once_it_settles(live):
    """No close event ever comes for it, and the start-up scan found it still young."""
    site, root, recorder = live
    config = minimal_config(
        cameras=[{"id": "cam-a", "zone": "corridor", "source": "x"}],
        recordings={"root": str(root), "min_free": "1K", "settle": "2s"},
    )
    write_site(site, config)
    recorder.write("cam-a")
    old = time.time() - 30
    for path in root.rglob("*.mp4"):
        os.utime(path, (old, old))
    recorder.skip_ahead["cam-a"] = 40
    recorder.write("cam-a")  # young when the watch starts: pending, and its close event is past
    watch = WatchProcess(site, "--stall", "60s")
    try:
        _, alert = watch.wait_for("gap", "cam-a", timeout=10)  # the rescan is a minute away
        assert alert["details"]["seconds"] >= 25
    finally:
        watch.proc.send_signal(signal.SIGINT)
        assert watch.proc.wait(timeout=10) == 0


def test_alert_command_runs_without_a_shell_and_low_space(site_dir, tmp_path, cli):
    root = tmp_path / "root"
    root.mkdir()
    out = tmp_path / "alerts.txt"
    script = tmp_path / "hook.py"
    script.write_text(
        "import os, sys\nopen(sys.argv[1], 'a').write(sys.argv[2] + '|' + os.environ['PPE_ALERT_KIND'] + '\\n')\n"
    )
    write_site(
        site_dir,
        minimal_config(
            cameras=[],
            recordings={
                "root": str(root),
                "min_free": "1000T",
                "alert_command": [sys.executable, str(script), str(out), "{kind};$(touch pwned)"],
            },
        ),
    )
    result = cli("recordings", "watch", "--for", "1s", "--interval", "0.2s")
    assert result.exit_code == 0, result.stderr
    assert "ALERT low_space" in result.stderr
    deadline = time.time() + 5
    while not out.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert out.read_text().splitlines() == ["low_space;$(touch pwned)|low_space"]
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_watch_bad_options(cli):
    result = cli("recordings", "watch", "--stall", "soon")
    assert result.exit_code == 2 and "--stall" in result.stderr
    result = cli("recordings", "watch", "--min-free", "lots")
    assert result.exit_code == 2 and "--min-free" in result.stderr


def _wait_for_first_scan(site: Path, timeout: float = 30.0) -> None:
    """Until the watch has indexed the root once (its first scan stores the segments)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with connect(site / "ppe.db") as conn:
                if conn.execute("SELECT COUNT(*) FROM recordings_segments").fetchone()[0]:
                    return
        except Exception:  # noqa: BLE001 - the watch has not made its store yet
            pass
        time.sleep(0.1)
    raise AssertionError("the watch did not scan the root within 30 s")


def test_lost_mount_leaving_an_empty_folder_is_noticed(live):
    site, root, recorder = live
    watch = None
    with tmpfs_at(root, "64m"):
        try:
            recorder.write("cam-a")
            watch = WatchProcess(site, "--stall", "60s")
            _wait_for_first_scan(site)  # on a busy machine the watch may take seconds to start
            subprocess.run(["umount", "-l", str(root)], check=True)  # the mount point folder stays
            assert root.is_dir()
            watch.wait_for("root_lost", timeout=8)
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(root)], check=True
            )
            watch.wait_for("root_back", timeout=8)
            assert watch.proc.poll() is None
        finally:
            if watch is not None:
                watch.proc.send_signal(signal.SIGTERM)
                watch.proc.wait(timeout=10)


def test_cameras_silent_for_hours_say_so_at_start_in_one_line(site_dir, tmp_path, segments, cli):
    """Three cameras whose newest segment ended 8 h 51 min ago: said at once, one grouped line."""
    root = tmp_path / "root"
    ended = datetime.now(UTC) - timedelta(hours=8, minutes=51, seconds=30)
    cams = ["cam-a", "cam-b", "cam-c"]
    for camera in cams:
        path = root / frigate_path(camera, ended - timedelta(seconds=10))
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(segments[0], path)
        os.utime(path, (ended.timestamp(), ended.timestamp()))
    write_site(
        site_dir,
        minimal_config(
            cameras=[{"id": c, "zone": "corridor", "source": "x"} for c in cams],
            recordings={"root": str(root), "min_free": "1K", "stall": "60s"},
        ),
    )
    result = cli("recordings", "watch", "--for", "0.5s", "--interval", "0.2s")
    assert result.exit_code == 0, result.stderr
    alerts = [line for line in result.stderr.splitlines() if "ALERT" in line]
    since = ended.astimezone(ZoneInfo("Europe/Moscow")).strftime("%H:%M")
    assert alerts == [
        "ppe-tech: ALERT stalled cam-a, cam-b, cam-c (3 cameras): no new segment for "
        f"8 h 51 min (since {since} MSK, limit 1 min)"
    ]


def test_alert_lines_group_and_name_each_camera_once():
    from ppe_tech.recordings.watch import alert_lines

    def alert(kind, camera, text):
        return {"kind": kind, "camera": camera, "text": text, "message": f"{camera}: {text}"}

    lines = alert_lines(
        [
            alert("stalled", "a", "no new segment for 2 min"),
            alert("gap", "b", "gap of 10 min"),
            alert("stalled", "c", "no new segment for 2 min"),
            alert("stalled", "d", "no new segment for 5 min"),
            {"kind": "low_space", "camera": None, "text": "1 GiB free", "message": "1 GiB free"},
        ]
    )
    assert lines == [
        "ALERT stalled a, c (2 cameras): no new segment for 2 min",
        "ALERT gap b: gap of 10 min",
        "ALERT stalled d: no new segment for 5 min",
        "ALERT low_space: 1 GiB free",
    ]
