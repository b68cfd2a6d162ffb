"""Benchmark: 16 RTSP cameras verified at once vs one alone vs a sequential loop vs ffprobe.

Serves 16 RTSP streams locally (the shipped H.264 walkway clip, sent as is by GStreamer's
RTSP server: no encoding, like a camera's hardware encoder), makes a site with 16 cameras,
and times, each under /usr/bin/time -v (peak RSS of the largest process):

  one         ppe-tech cameras verify --camera cam01
  concurrent  ppe-tech cameras verify                      (all 16)
  sequential  16 x ppe-tech cameras verify --camera camNN  (a shell loop, same settings)
  ffprobe     ffprobe -rtsp_transport tcp on every URL in parallel (what a shell script does;
              it only opens the stream, it does not judge the picture)

and the peak summed memory of the concurrent run's process tree (psutil, RSS and USS).
Usage: .venv/bin/python bench/cameras/bench_verify.py [--runs 3] [--sample 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.cameras.conftest import RtspServer, gst_rtsp_missing  # noqa: E402

CLIP = REPO / "ppe_tech" / "demo_data" / "walkway.mp4"
PPE = str(Path(sys.executable).parent / "ppe-tech")
N = 16


def timed(cmd: list[str] | str, env: dict, shell: bool = False) -> tuple[float, int, int]:
    """(wall seconds, exit code, max RSS KiB) of a command under /usr/bin/time -v."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        wrapped = ["/usr/bin/time", "-v", "-o", report.name]
        wrapped += ["sh", "-c", cmd] if shell else cmd
        began = time.monotonic()
        done = subprocess.run(
            wrapped, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wall = time.monotonic() - began
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", report.read()).group(1))
    return wall, done.returncode, rss


def tree_peak(cmd: list[str], env: dict) -> tuple[float, float, float]:
    """(wall, peak summed RSS MiB, peak summed USS MiB) of a command and all its descendants."""
    import psutil

    began = time.monotonic()
    proc = psutil.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak_rss = peak_uss = 0.0
    while proc.poll() is None:
        rss = uss = 0
        for p in [proc, *proc.children(recursive=True)]:
            try:
                info = p.memory_full_info()
                rss, uss = rss + info.rss, uss + info.uss
            except psutil.Error:
                pass
        peak_rss, peak_uss = max(peak_rss, rss / 2**20), max(peak_uss, uss / 2**20)
        time.sleep(0.05)
    return time.monotonic() - began, peak_rss, peak_uss


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sample", type=float, default=3.0)
    args = parser.parse_args()
    missing = gst_rtsp_missing()
    if missing:
        print(f"cannot run: {missing}")
        return 1
    work = Path(tempfile.mkdtemp(prefix="ppe-cam-bench-"))
    clip = work / "clip.mp4"
    shutil.copyfile(CLIP, clip)
    server = RtspServer({f"/cam{i:02d}": f"h264:{clip}" for i in range(1, N + 1)})
    try:
        import cv2
        import yaml

        site = work / "site"
        (site / "references").mkdir(parents=True)
        cap = cv2.VideoCapture(str(clip))
        ok, frame = cap.read()
        cams = []
        for i in range(1, N + 1):
            cams.append(
                {
                    "id": f"cam{i:02d}",
                    "zone": "auditorium",
                    "room": f"Auditorium {i:04d}",
                    "source": server.url(f"/cam{i:02d}"),
                    "expect": {"width": 768, "height": 576, "fps": 10},
                }
            )
            cv2.imwrite(str(site / "references" / f"cam{i:02d}.png"), frame)
        config = {
            "point": {"code": "0101", "name": "Bench"},
            "staff": {
                "technician": {"name": "T", "position": "t"},
                "head": {"name": "H", "position": "h"},
            },
            "cameras": cams,
        }
        (site / "ppe.yaml").write_text(yaml.safe_dump(config))
        env = {**os.environ, "PPE_SITE": str(site)}
        sample = ["--sample", str(args.sample)]
        one = [PPE, "cameras", "verify", "--camera", "cam01", *sample]
        every = [PPE, "cameras", "verify", *sample]
        loop = " ; ".join(
            f"{PPE} cameras verify --camera cam{i:02d} --sample {args.sample}"
            for i in range(1, N + 1)
        )
        probes = (
            " & ".join(
                f"ffprobe -v error -rtsp_transport tcp -show_entries stream=width,height,r_frame_rate {server.url(f'/cam{i:02d}')}"
                for i in range(1, N + 1)
            )
            + " & wait"
        )
        subprocess.run(
            one, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )  # warm caches
        results: dict[str, list[tuple[float, int, int]]] = {}
        for name, cmd, shell, runs in (
            ("one", one, False, args.runs),
            ("concurrent", every, False, args.runs),
            ("sequential", loop, True, 1),
            ("ffprobe", probes, True, args.runs),
        ):
            results[name] = [timed(cmd, env, shell) for _ in range(runs)]
        _, peak_rss, peak_uss = tree_peak(every, env)
        last = json.loads(
            subprocess.run(
                [PPE, "cameras", "show", "--json"], env=env, capture_output=True, text=True
            ).stdout
        )
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    def wall(name: str) -> float:
        return statistics.median(w for w, _, _ in results[name])

    print(
        f"{N} RTSP cameras, sample {args.sample:g}s, median of {args.runs} runs (sequential: 1 run)\n"
    )
    print("| case | wall s | ratio to one | max RSS (largest process) | exit |")
    print("|---|---|---|---|---|")
    for name in results:
        rss = max(r for _, _, r in results[name]) / 1024
        codes = sorted({c for _, c, _ in results[name]})
        print(
            f"| {name} | {wall(name):.2f} | {wall(name) / wall('one'):.2f}x | {rss:.0f} MiB | {codes} |"
        )
    print(
        f"\nconcurrent run, whole process tree at its peak: RSS {peak_rss:.0f} MiB (shared pages counted "
        f"in every process), USS {peak_uss:.0f} MiB (private memory)"
    )
    statuses = [c["status"] for c in last["cameras"]]
    print(
        f"last concurrent run: {statuses.count('ok')}/{len(statuses)} ok; fps "
        f"{min(c['metrics'].get('fps', 0) for c in last['cameras'])}-"
        f"{max(c['metrics'].get('fps', 0) for c in last['cameras'])}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
