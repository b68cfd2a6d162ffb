"""The console against its goals on a point of 64 cameras and 40 stations (make_point.py).

    .venv/bin/python bench/console/run.py DIR/site [--requests 30]

Starts ``ppe-tech serve`` (a real uvicorn process: HTTP on 127.0.0.1, the recording watch on,
no periodic camera checks so the camera workers do not mix into the figures) and measures:

1. server time of the overview and the camera grid: median and 95th percentile over N
   requests each, timed on the client over loopback (an upper bound of the server time);
2. alert -> page: a segment is written into the recording root with a gap before it; the time
   from closing the file to the ``gap`` event arriving on an open ``/events`` stream;
3. 40 station results (signed files, one per station, built with a key enrolled on the site)
   posted at once from 40 threads: wall time until all are answered, and that all 40 are stored;
4. the server's memory: its peak resident set (VmHWM) at the end.

And what the technician would run in a terminal instead for the same view: ``cameras list``,
``recordings status``, ``stations`` (each a fresh process).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(site: Path, port: int) -> subprocess.Popen:
    argv = [
        PY,
        "-m",
        "ppe_tech",
        "--site",
        str(site),
        "serve",
        "--port",
        str(port),
        "--check-every",
        "0",
    ]
    server = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the console did not start")


def page_times(client: httpx.Client, path: str, n: int) -> tuple[float, float]:
    client.get(path)  # warm: the first request indexes and fills caches
    times = []
    for _ in range(n):
        t = time.perf_counter()
        assert client.get(path).status_code == 200
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def gap_segment(site, camera: str, master: Path) -> Path:
    """A finished segment of ``camera`` starting now: a gap after its newest one.

    Its folder is made first and given a second: a file closed right after its folder is
    created can slip past the watch's inotify until the next rescan (a real recorder writes
    for minutes before it closes a file in a new folder).
    """
    root = site.path(site.config.recordings.root)
    moment = datetime.now(UTC) + timedelta(seconds=30)
    target = root / f"{moment:%Y-%m-%d}" / f"{moment:%H}" / camera / f"{moment:%M}.{moment:%S}.mp4"
    if not target.parent.is_dir():
        target.parent.mkdir(parents=True)
        time.sleep(1)
    shutil.copyfile(master, target)
    return target


def alert_latency(site, url: str, rounds: int = 5) -> list[float]:
    """Seconds from a gap segment's file close to its event on an open /events stream."""
    master = site.path(site.config.recordings.root) / ".bench" / "segment.mp4"
    latencies = []
    with httpx.Client(base_url=url, timeout=30) as client:
        client.get("/login")  # a session, as a page would have
        with client.stream("GET", "/events") as stream:
            lines = stream.iter_lines()
            next(lines)  # "retry: ...": the stream is open
            for k in range(rounds):
                camera = site.config.cameras[10 + k].id
                target = gap_segment(site, camera, master)
                written = time.perf_counter()
                for line in lines:
                    if line.startswith("data: ") and json.loads(line[6:])["camera"] == camera:
                        latencies.append(time.perf_counter() - written)
                        break
                    if time.perf_counter() - written > 20:  # lines come at least every 15 s
                        break
                target.unlink()  # leave the point as it was
    return latencies


def station_files(site, tmp: Path) -> list[bytes]:
    from ppe_tech.stations.resultfile import build_result
    from ppe_tech.stations.results import HOW_RUN, StationItem, StationResult
    from ppe_tech.stations.signing import enroll, load_signing_key
    from ppe_tech.timeutil import utc_now

    exam = site.config.exams[0]
    enrolment = enroll(site, exam, tmp / "stick")
    key = load_signing_key(site, enrolment.stick_site / "keys" / "station-signing.json")
    now = utc_now()
    files = []
    item = StationItem(
        item_id="station-clock",
        section_id="station",
        title_ru="Часы",
        title_en="Clock",
        severity="critical",
        kind="clock",
        status="pass",
        value="0.1s",
        expected="1m",
        message="",
        duration_ms=5,
        attempts=1,
        answered_by=None,
        comment=None,
        finished_at=now.isoformat(),
    )
    for station in site.config.stations:
        result = StationResult(
            point_code=site.config.point.code,
            station_id=station.id,
            room=station.room,
            role=station.role,
            exam_id=exam.id,
            how=HOW_RUN,
            status="passed",
            checklist=station.checklist_name,
            checklist_sha256="0" * 64,
            ppe_tech_version="0.1.0",
            started_at=now,
            finished_at=now,
            operator="bench",
            items=(item,),
        )
        files.append(build_result(result, key))
    return files


def post_all(url: str, files: list[bytes]) -> tuple[float, list[int]]:
    """Every file posted at once, one connection each (a station each), all opened first."""
    limits = httpx.Limits(max_connections=len(files), max_keepalive_connections=len(files))
    with httpx.Client(base_url=url, timeout=30, limits=limits) as client:
        with ThreadPoolExecutor(len(files)) as pool:
            list(pool.map(lambda _: client.get("/login").status_code, files))  # connections open

            def post(data: bytes) -> int:
                return client.post("/stations/result", content=data).status_code

            t = time.perf_counter()
            codes = list(pool.map(post, files))
            return time.perf_counter() - t, codes


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cli_time(site: Path, *args: str) -> float:
    t = time.perf_counter()
    subprocess.run(
        [PY, "-m", "ppe_tech", "--site", str(site), *args], capture_output=True, check=False
    )
    return time.perf_counter() - t


def main() -> None:
    from ppe_tech.site import load_site

    parser = argparse.ArgumentParser()
    parser.add_argument("site", type=Path)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    site = load_site(args.site)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    print(f"load average before: {os.getloadavg()}")
    server = start_server(args.site, port)
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            for path in ("/", "/cameras", "/rooms"):
                median, p95 = page_times(client, path, args.requests)
                print(f"{path:<10} median {median:6.1f} ms   p95 {p95:6.1f} ms   (goal < 150 ms)")
            time.sleep(2)  # the watch has made its first scan
            latencies = alert_latency(site, url)
            if latencies:
                print(
                    f"alert -> page: {len(latencies)} gaps, median {statistics.median(latencies):.2f} s, "
                    f"max {max(latencies):.2f} s (goal < 1 s)"
                )
            files = station_files(site, args.site.parent)
            wall, codes = post_all(url, files)
            stored = sum(1 for c in codes if c == 200)
            print(
                f"{len(files)} station results posted at once: {wall:.2f} s, {stored} stored (goal < 2 s)"
            )
        print(f"server peak RSS: {peak_rss_mb(server.pid):.0f} MB (goal < 200 MB)")
    finally:
        server.terminate()
        server.wait(10)
    for what in (("cameras", "list"), ("recordings", "status"), ("stations",)):
        print(
            f"terminal instead: ppe-tech {' '.join(what):<18} {cli_time(args.site, *what) * 1000:6.0f} ms"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
