"""CPU time of one segment's decode check, by library: the measurement behind decode.py's choice.

    python bench/recordings/decode_cpu.py SEGMENT.mp4 [...] [--calls 20]

For each file, process CPU time (all threads) per call of:
- ``opencv``: the check as it was (cv2.VideoCapture: open, read the first frame, seek to the
  last frame by number, read it);
- ``pyav-demux``: PyAV's demuxer (av.open, first frame, seek to the end, the keyframe there);
- ``ours``: ``ppe_tech.recordings.decode.decodable`` (the MP4's sample tables, then PyAV's
  decoder on the first sample and the last keyframe only);
- ``tables``: ``ppe_tech.recordings.mp4.video_track`` alone (sample tables checked, no decoding).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from ppe_tech.recordings.decode import decodable
from ppe_tech.recordings.mp4 import video_track


def opencv(path: Path) -> bool:
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    import cv2

    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        ok, _frame = cap.read()
        frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        cap.set(cv2.CAP_PROP_POS_FRAMES, frames - 1)
        return ok and cap.read()[0]
    finally:
        cap.release()


def pyav_demux(path: Path) -> bool:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        first = next(container.decode(stream), None)
        container.seek((stream.start_time or 0) + (stream.duration or 0), stream=stream)
        return first is not None and next(container.decode(stream), None) is not None


def ours(path: Path) -> bool:
    return decodable(path)[0]


def tables(path: Path) -> bool:
    return video_track(path).samples > 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    print("| file | method | CPU ms per call | wall ms per call | result |")
    print("|---|---|---:|---:|---|")
    for path in args.files:
        for method in (opencv, pyav_demux, ours, tables):
            result = method(path)  # warm: the file in the page cache, the libraries loaded
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(args.calls):
                method(path)
            cpu = (time.process_time() - cpu) / args.calls * 1000
            wall = (time.perf_counter() - wall) / args.calls * 1000
            print(f"| {path.name} | {method.__name__} | {cpu:.1f} | {wall:.1f} | {result} |")


if __name__ == "__main__":
    main()
