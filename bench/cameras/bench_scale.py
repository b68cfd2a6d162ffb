"""Benchmark: 16, 48 and 64 cameras at once, on a quiet machine and with one CPU hog per core.

Cameras: a pre-encoded H.264 file (the shipped walkway clip scaled by ffmpeg to 1280x720,
15 fps, a key frame a second) served by GStreamer's RTSP server as is (no encoding on the
server, like a camera's hardware encoder; tests/cameras/rtsp_server.py, mount kind h264).
Every camera is healthy, so every finding is a false one (no_reference is avoided: each
camera has a reference picture, a frame of the clip).

For each load (quiet; one ``while True: pass`` process per core, normal priority) and each
number of cameras (1, 16, 48, 64) it runs ``ppe-tech cameras verify --json --sample S``
once and reports: wall time, its ratio to one camera under the same load, cameras with a
finding (and which codes), the exit code, and the peak summed memory of the whole process
tree (psutil, sampled every 50 ms: RSS counts shared pages in every process, USS is
private memory). The load average before each run is printed: the machine is shared.

Usage: .venv/bin/python bench/cameras/bench_scale.py [--sample 3] [--size 1280x720]
       [--counts 1,16,48,64]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from bench.cameras.bench_verify import tree_peak  # noqa: E402
from tests.cameras.conftest import RtspServer, gst_rtsp_missing  # noqa: E402

CLIP = REPO / "ppe_tech" / "demo_data" / "walkway.mp4"
PPE = str(Path(sys.executable).parent / "ppe-tech")
HOG = "while True: pass"
# the local server stands in for cameras that each have their own processor: ahead of the hogs
SERVER_PRIORITY = ("nice", "-n", "-10") if os.geteuid() == 0 else ()


def encode(out: Path, size: str) -> None:
    width, height = size.split("x")
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-stream_loop",
            "3",
            "-i",
            str(CLIP),
            "-vf",
            f"scale={width}:{height},fps=15",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-g",
            "15",
            "-bf",
            "0",
            "-b:v",
            "2M",
            "-an",
            str(out),
        ],
        check=True,
    )


def make_site(folder: Path, url: str, count: int, clip: Path) -> Path:
    import cv2
    import yaml

    (folder / "references").mkdir(parents=True)
    ok, frame = cv2.VideoCapture(str(clip)).read()
    cams = []
    for i in range(1, count + 1):
        cams.append(
            {
                "id": f"cam{i:02d}",
                "zone": "auditorium",
                "room": f"Auditorium {i:04d}",
                "source": url,
                "expect": {"fps": 15},
            }
        )
        cv2.imwrite(str(folder / "references" / f"cam{i:02d}.png"), frame)
    config = {
        "point": {"code": "0101", "name": "Bench", "language": "en"},
        "staff": {
            "technician": {"name": "T", "position": "t"},
            "head": {"name": "H", "position": "h"},
        },
        "cameras": cams,
    }
    (folder / "ppe.yaml").write_text(yaml.safe_dump(config))
    return folder


def point_at(site: Path, url: str) -> None:
    """Point every camera of the site at ``url`` (the fresh server's port)."""
    import yaml

    config = yaml.safe_load((site / "ppe.yaml").read_text())
    for cam in config["cameras"]:
        cam["source"] = url
    (site / "ppe.yaml").write_text(yaml.safe_dump(config))


def run_once(site: Path, sample: float) -> dict:
    env = {**os.environ, "PPE_SITE": str(site)}
    wall, rss, uss = tree_peak([PPE, "cameras", "verify", "--sample", str(sample)], env)
    shown = subprocess.run(
        [PPE, "cameras", "show", "--json"], env=env, capture_output=True, text=True
    )
    run = json.loads(shown.stdout)
    false = {c["id"]: [f["code"] for f in c["findings"]] for c in run["cameras"] if c["findings"]}
    codes = sorted({code for found in false.values() for code in found})
    return {"wall": wall, "rss": rss, "uss": uss, "false": len(false), "codes": codes}


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=float, default=3.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--counts", default="1,16,48,64")
    args = parser.parse_args()
    counts = [int(n) for n in args.counts.split(",")]
    missing = gst_rtsp_missing()
    if missing:
        print(f"cannot run: {missing}")
        return 1
    work = Path(tempfile.mkdtemp(prefix="ppe-cam-scale-"))
    clip = work / "clip.mp4"
    encode(clip, args.size)
    rows = []
    # a fresh server for every run: every client's stream starts at the file's beginning
    sites = {n: make_site(work / f"site{n}", "rtsp://127.0.0.1:1/cam", n, clip) for n in counts}
    for load in ("quiet", "hogs"):
        hogs = []
        if load == "hogs":
            hogs = [
                subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(os.cpu_count() or 1)
            ]
            time.sleep(1)
        try:
            for n in counts:
                server = RtspServer({"/cam": f"h264:{clip}"}, prefix=SERVER_PRIORITY)
                try:
                    point_at(sites[n], server.url("/cam"))
                    if not rows:
                        run_once(sites[n], args.sample)  # warm the caches
                    before = load_average()
                    rows.append(
                        {"load": load, "n": n, "before": before, **run_once(sites[n], args.sample)}
                    )
                finally:
                    server.stop()
        finally:
            for hog in hogs:
                hog.kill()
                hog.wait()
    print(
        f"{args.size} 15 fps H.264 served as is, sample {args.sample:g}s, one run each, "
        f"{os.cpu_count()} cores\n"
    )
    print(
        "| cameras | load | wall s | vs one camera | cameras with a finding | peak tree USS | peak tree RSS | load avg before |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        one = next(x["wall"] for x in rows if x["load"] == r["load"] and x["n"] == counts[0])
        found = f"{r['false']} ({', '.join(r['codes'])})" if r["false"] else "0"
        print(
            f"| {r['n']} | {r['load']} | {r['wall']:.2f} | {r['wall'] / one:.2f}x | {found} | "
            f"{r['uss']:.0f} MiB | {r['rss']:.0f} MiB | {r['before']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
