"""Segment duration from the container, without decoding: a light walk of the MP4 boxes.

A closed MP4 segment (as written by ffmpeg's segment muxer, which Frigate and
most NVRs use) has a ``moov`` box whose ``mvhd`` holds the duration and its
timescale. The top-level boxes are walked by their headers only (a few seeks),
so indexing a 10 MB segment reads a few kilobytes. A file whose ``moov`` is
missing is either still being written or truncated; a fragmented MP4 (``moov``
with ``mvex``, duration 0) falls back to OpenCV's frame count / fps.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

_MAX_MOOV = 64 * 1024 * 1024


class NotMp4(Exception):
    """The file is not a complete MP4 (no moov, a broken box header, or garbage)."""


def _boxes(data: bytes, start: int = 0, end: int | None = None):
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            if pos + 16 > end:
                return
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise NotMp4(f"broken box {kind!r} at {pos}")
        yield kind, pos + header, pos + size
        pos += size


def _find_moov(fh, file_size: int) -> bytes:
    pos, first = 0, True
    while pos + 8 <= file_size:
        fh.seek(pos)
        head = fh.read(16)
        if len(head) < 8:
            break
        size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if size == 1:
            if len(head) < 16:
                break
            size, header = struct.unpack(">Q", head[8:16])[0], 16
        elif size == 0:
            size = file_size - pos  # "to the end of the file": an mdat still being written
        if first and kind not in (b"ftyp", b"styp", b"moov", b"free", b"skip", b"wide", b"mdat"):
            raise NotMp4("no MP4 header")
        first = False
        if size < header or not kind.isascii():
            raise NotMp4(f"broken box header at {pos}")
        if pos + size > file_size:
            raise NotMp4(
                f"box {kind.decode('latin-1')!r} runs past the end (truncated or still written)"
            )
        if kind == b"moov":
            if size > _MAX_MOOV:
                raise NotMp4("moov box too large")
            fh.seek(pos + header)
            return fh.read(size - header)
        pos += size
    raise NotMp4("no moov box (truncated or still being written)")


def mp4_duration(path: Path) -> float | None:
    """Duration in seconds from ``moov/mvhd``; None for a fragmented MP4 that does not say.

    Raises NotMp4 when the file is not a complete MP4.
    """
    with open(path, "rb") as fh:
        file_size = os.fstat(fh.fileno()).st_size
        moov = _find_moov(fh, file_size)
    fragmented = False
    duration, timescale = None, 0
    for kind, body, end in _boxes(moov):
        if kind == b"mvhd":
            if moov[body] == 1:
                timescale, units = struct.unpack(">IQ", moov[body + 20 : body + 32])
            else:
                timescale, units = struct.unpack(">II", moov[body + 12 : body + 20])
            if timescale == 0:
                raise NotMp4("mvhd timescale is 0")
            duration = units / timescale
        elif kind == b"mvex":
            fragmented = True
            for sub, sbody, _ in _boxes(moov, body, end):
                if sub == b"mehd" and timescale:
                    fmt = ">Q" if moov[sbody] == 1 else ">I"
                    units = struct.unpack(fmt, moov[sbody + 4 : sbody + 4 + struct.calcsize(fmt)])[
                        0
                    ]
                    if units:
                        return units / timescale
    if duration is None:
        raise NotMp4("no mvhd in moov")
    if duration == 0 and fragmented:
        return None
    if duration <= 0 or duration > 7 * 86400:
        raise NotMp4(f"implausible duration {duration}")
    return duration


def _cv2():
    """OpenCV, quiet: a broken segment is reported by us, not by FFmpeg's log on stderr."""
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    import cv2

    return cv2


def opencv_duration(path: Path) -> float | None:
    """Frame count / fps from OpenCV (the slow fallback); None when OpenCV cannot tell."""
    cv2 = _cv2()
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        if not cap.isOpened():
            return None
        frames = cap.get(cv2.CAP_PROP_FRAME_COUNT)
        fps = cap.get(cv2.CAP_PROP_FPS)
        if frames > 0 and fps > 0:
            return frames / fps
        return None
    finally:
        cap.release()


def segment_duration(path: Path) -> float:
    """Duration of a segment in seconds; NotMp4 when it is not a complete, readable MP4."""
    duration = mp4_duration(path)
    if duration is None:
        duration = opencv_duration(path)
        if not duration:
            raise NotMp4("fragmented MP4 with unknown duration")
    return duration


def decodable(path: Path) -> tuple[bool, str]:
    """Decode the first and the last frame: ``(True, "")`` or ``(False, reason)``."""
    cv2 = _cv2()
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        if not cap.isOpened():
            return False, "cannot open"
        ok, frame = cap.read()
        if not ok or frame is None:
            return False, "first frame does not decode"
        frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if frames > 1:
            cap.set(cv2.CAP_PROP_POS_FRAMES, frames - 1)
            ok, frame = cap.read()
            if not ok or frame is None:
                return False, f"last frame ({frames}) does not decode"
        return True, ""
    finally:
        cap.release()
