"""Make the benchmark's recording root: one real segment copied under many names, and a site.

    python bench/recordings/make_data.py DIR [--gib 2.4] [--segment-seconds 60]

Writes DIR/segment.mp4 (vtest.avi encoded to H.264 at about 4 Mbit/s, a keyframe every
2 s), DIR/root/{camera}/{date}/{time}.mp4 for two cameras (real copies, not links, so the
page cache holds every byte like a real recorder's disk would), and DIR/site/ppe.yaml whose
exam window covers all of it.
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=Path)
    parser.add_argument("--gib", type=float, default=2.4)
    parser.add_argument("--segment-seconds", type=int, default=60)
    args = parser.parse_args()
    out: Path = args.dir
    out.mkdir(parents=True, exist_ok=True)
    segment = out / "segment.mp4"
    if not segment.exists():
        subprocess.run(
            ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-stream_loop", "-1",
             "-i", str(VTEST), "-t", str(args.segment_seconds), "-c:v", "libx264", "-preset", "veryfast",
             "-g", "20", "-b:v", "5M", "-maxrate", "5M", "-bufsize", "4M", "-pix_fmt", "yuv420p", "-an",
             str(segment)],
            check=True,
        )  # fmt: skip
    size = segment.stat().st_size
    count = int(args.gib * 1024**3 // size) // 2
    start = datetime(2026, 5, 28, 6, 0, tzinfo=UTC)  # 09:00 Moscow
    root = out / "root"
    for cam in ("corridor-1", "entrance"):
        for i in range(count):
            moment = start + timedelta(seconds=i * args.segment_seconds)
            path = root / cam / f"{moment:%Y-%m-%d}" / f"{moment:%H-%M-%S}.mp4"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(segment, path)
    minutes = count * args.segment_seconds // 60
    site = out / "site"
    site.mkdir(exist_ok=True)
    config = {
        "point": {"code": "0101", "name": "Bench school", "timezone": "Europe/Moscow", "language": "en"},
        "staff": {"technician": {"name": "T", "position": "technician"}, "head": {"name": "H", "position": "head"}},
        "exams": [{"id": "bench", "subject": "Bench", "date": "2026-05-28", "start": "09:00",
                   "duration": f"{minutes}m"}],
        "cameras": [{"id": "corridor-1", "zone": "corridor", "source": "x"},
                    {"id": "entrance", "zone": "entrance", "source": "y"}],
        "recordings": {"root": str(root), "layout": "{camera}/{date}/{time}.mp4", "timezone": "UTC"},
        "archive": {"margin": "0s"},
    }  # fmt: skip
    (site / "ppe.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    total = 2 * count * size
    print(
        f"{2 * count} segments of {size / 1024**2:.1f} MiB = {total / 1024**3:.2f} GiB under {root}"
    )


if __name__ == "__main__":
    main()
