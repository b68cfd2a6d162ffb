"""Make the benchmark's recording root: one real segment copied under many names, and a site.

    python bench/recordings/make_data.py DIR [--segments 68] [--gop 2] [--segment-seconds 60]

Writes DIR/segment.mp4 (vtest.avi encoded to H.264 at 5 Mbit/s, 768x576, 10 fps, a keyframe
every ``--gop`` seconds exactly: no scene-cut keyframes), DIR/root/{camera}/{date}/{time}.mp4
for two cameras, ``--segments`` files in all (real copies, not links, so the page cache holds
every byte like a real recorder's disk would), and DIR/site/ppe.yaml whose exam window
covers all of it.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
VTEST = REPO.parent / "shared" / "fixtures" / "vtest.avi"
FPS = 10  # vtest.avi's rate


def encode(segment: Path, *, seconds: int, gop: int) -> None:
    keyint = gop * FPS
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-stream_loop",
            "-1",
            "-i",
            str(VTEST),
            "-t",
            str(seconds),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-x264-params",
            f"keyint={keyint}:min-keyint={keyint}:scenecut=0",
            "-b:v",
            "5M",
            "-maxrate",
            "5M",
            "-bufsize",
            "4M",
            "-pix_fmt",
            "yuv420p",
            "-an",
            str(segment),
        ],
        check=True,
    )  # fmt: skip  (an argv reads best one option and its value per pair)


def site_config(root: Path, count: int, seconds: int) -> dict:
    minutes = -(-count * seconds // 60)
    cams = [
        {"id": "corridor-1", "zone": "corridor", "source": "x"},
        {"id": "entrance", "zone": "entrance", "source": "y"},
    ]
    return {
        "point": {"code": "0101", "name": "Bench school", "timezone": "Europe/Moscow"},
        "staff": {
            "technician": {"name": "T", "position": "technician"},
            "head": {"name": "H", "position": "head"},
        },
        "exams": [
            {
                "id": "bench",
                "subject": "Bench",
                "date": "2026-05-28",
                "start": "09:00",
                "duration": f"{minutes}m",
            },
        ],
        "cameras": cams,
        "recordings": {
            "root": str(root),
            "layout": "{camera}/{date}/{time}.mp4",
            "timezone": "UTC",
        },
        "archive": {"margin": "0s"},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=Path)
    parser.add_argument("--segments", type=int, default=68)
    parser.add_argument("--gop", type=int, default=2, help="keyframe interval, seconds")
    parser.add_argument("--segment-seconds", type=int, default=60)
    args = parser.parse_args()
    out: Path = args.dir
    out.mkdir(parents=True, exist_ok=True)
    segment = out / "segment.mp4"
    if not segment.exists():
        encode(segment, seconds=args.segment_seconds, gop=args.gop)
    per_camera = args.segments // 2
    start = datetime(2026, 5, 28, 6, 0, tzinfo=UTC)  # 09:00 Moscow
    root = out / "root"
    for cam in ("corridor-1", "entrance"):
        for i in range(per_camera):
            moment = start + timedelta(seconds=i * args.segment_seconds)
            path = root / cam / f"{moment:%Y-%m-%d}" / f"{moment:%H-%M-%S}.mp4"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(segment, path)
    site = out / "site"
    site.mkdir(exist_ok=True)
    config = site_config(root, per_camera, args.segment_seconds)
    (site / "ppe.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    size = segment.stat().st_size
    total = 2 * per_camera * size
    print(
        f"{2 * per_camera} segments of {size / 1024**2:.1f} MiB (keyframe every {args.gop} s) "
        f"= {total / 1024**3:.2f} GiB under {root}"
    )


if __name__ == "__main__":
    main()
