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
import sys
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

_MAX_MOOV = 64 * 1024 * 1024
_FIRST_BOXES = (b"ftyp", b"styp", b"moov", b"free", b"skip", b"wide", b"mdat")
_VISUAL_ENTRY = 78  # bytes of a VisualSampleEntry before its child boxes (ISO 14496-12 12.1.3)


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


def _top_level(fh, file_size: int) -> list[tuple[bytes, int, int, int]]:
    """Every top-level box as ``(kind, start, end, header)``; NotMp4 when one runs past the end."""
    boxes = []
    pos = 0
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
        if not boxes and kind not in _FIRST_BOXES:
            raise NotMp4("no MP4 header")
        if size < header or not kind.isascii():
            raise NotMp4(f"broken box header at {pos}")
        if pos + size > file_size:
            raise NotMp4(
                f"box {kind.decode('latin-1')!r} at {pos} runs past the end of the file "
                f"({pos + size - file_size} bytes missing: truncated or still written)"
            )
        boxes.append((kind, pos, pos + size, header))
        pos += size
    return boxes


def _read_moov(fh, file_size: int) -> tuple[bytes, list[tuple[int, int]]]:
    """The ``moov`` body and the byte ranges of the ``mdat`` payloads."""
    boxes = _top_level(fh, file_size)
    moov = [(start + header, end) for kind, start, end, header in boxes if kind == b"moov"]
    if not moov:
        raise NotMp4("no moov box (truncated or still being written)")
    body_start, body_end = moov[0]
    if body_end - body_start > _MAX_MOOV:
        raise NotMp4("moov box too large")
    fh.seek(body_start)
    mdat = [(start + header, end) for kind, start, end, header in boxes if kind == b"mdat"]
    return fh.read(body_end - body_start), mdat


def mp4_duration(path: Path) -> float | None:
    """Duration in seconds from ``moov/mvhd``; None for a fragmented MP4 that does not say.

    Raises NotMp4 when the file is not a complete MP4.
    """
    with open(path, "rb") as fh:
        file_size = os.fstat(fh.fileno()).st_size
        moov, _mdat = _read_moov(fh, file_size)
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


@dataclass(frozen=True, kw_only=True)
class VideoTrack:
    """What decoding the first video track's first frame and last keyframe needs, from ``moov``.

    ``first`` and ``last_key`` are ``(offset, size)`` of samples in the file; both are None
    for a fragmented MP4, whose samples are described in ``moof`` boxes instead.
    """

    entry: str  # the sample entry's type: avc1, hvc1, mp4v, ...
    config: bytes  # body of the decoder configuration box (avcC, hvcC), b"" when there is none
    samples: int
    keyframes: int
    first: tuple[int, int] | None
    last_key: tuple[int, int] | None
    last_key_number: int  # 1-based sample number of the last keyframe (0 when fragmented)


def video_track(path: Path) -> VideoTrack:
    """The first video track, with every sample checked to lie in the file's ``mdat`` data.

    NotMp4 with the reason when the file is not a complete MP4, has no video track, or its
    sample tables point outside the media data (a truncated or cut segment).
    """
    try:
        return _video_track(path)
    except (struct.error, IndexError, ValueError, OverflowError, MemoryError) as exc:
        raise NotMp4(f"broken sample tables ({type(exc).__name__}: {exc})") from None


def _video_track(path: Path) -> VideoTrack:
    with open(path, "rb") as fh:
        moov, mdat = _read_moov(fh, os.fstat(fh.fileno()).st_size)
    stbl = _video_stbl(moov)
    entry, config = _sample_entry(moov, stbl[b"stsd"])
    fragmented = any(kind == b"mvex" for kind, _body, _end in _boxes(moov))
    sizes = _sample_sizes(moov, stbl)
    if not sizes and fragmented:
        return VideoTrack(
            entry=entry,
            config=config,
            samples=0,
            keyframes=0,
            first=None,
            last_key=None,
            last_key_number=0,
        )
    if not sizes:
        raise NotMp4("the video track has no samples")
    offsets = _chunk_offsets(moov, stbl)
    firsts = _chunk_firsts(moov, stbl[b"stsc"], len(offsets), len(sizes))
    prefix = list(accumulate(sizes, initial=0))
    _check_chunks(offsets, firsts, prefix, mdat)
    sync = _u32s(moov, *stbl[b"stss"], skip=8) if b"stss" in stbl else None
    last_number = sync[-1] if sync else len(sizes)
    if not 1 <= last_number <= len(sizes):
        raise NotMp4(f"keyframe table names sample {last_number} of {len(sizes)}")

    def sample(number: int) -> tuple[int, int]:
        index = number - 1
        chunk = bisect_right(firsts, index) - 1
        return offsets[chunk] + prefix[index] - prefix[firsts[chunk]], sizes[index]

    return VideoTrack(
        entry=entry,
        config=config,
        samples=len(sizes),
        keyframes=len(sync) if sync is not None else len(sizes),
        first=sample(1),
        last_key=sample(last_number),
        last_key_number=last_number,
    )


def _child(data: bytes, body: int, end: int, kind: bytes) -> tuple[int, int] | None:
    return next(((b, e) for k, b, e in _boxes(data, body, end) if k == kind), None)


def _descend(data: bytes, body: int, end: int, *kinds: bytes) -> tuple[int, int] | None:
    span: tuple[int, int] | None = (body, end)
    for kind in kinds:
        if span is None:
            return None
        span = _child(data, span[0], span[1], kind)
    return span


def _video_stbl(moov: bytes) -> dict[bytes, tuple[int, int]]:
    """The sample table boxes (stsd, stsz, stsc, stco, stss, ...) of the first video track."""
    for kind, body, end in _boxes(moov):
        if kind != b"trak":
            continue
        hdlr = _descend(moov, body, end, b"mdia", b"hdlr")
        if hdlr is None or moov[hdlr[0] + 8 : hdlr[0] + 12] != b"vide":
            continue
        stbl = _descend(moov, body, end, b"mdia", b"minf", b"stbl")
        if stbl is None:
            raise NotMp4("the video track has no sample table")
        tables = {k: (b, e) for k, b, e in _boxes(moov, *stbl)}
        for needed in (b"stsd", b"stsc"):
            if needed not in tables:
                raise NotMp4(f"the video track has no {needed.decode()} box")
        return tables
    raise NotMp4("no video track")


def _sample_entry(moov: bytes, stsd: tuple[int, int]) -> tuple[str, bytes]:
    """The first sample entry's type and its decoder configuration (avcC or hvcC body)."""
    entries = list(_boxes(moov, stsd[0] + 8, stsd[1]))  # after version, flags, entry count
    if not entries:
        raise NotMp4("the video track has no sample description")
    kind, body, end = entries[0]
    config = b""
    if body + _VISUAL_ENTRY <= end:
        for sub, sbody, send in _boxes(moov, body + _VISUAL_ENTRY, end):
            if sub in (b"avcC", b"hvcC"):
                config = moov[sbody:send]
    return kind.decode("latin-1"), config


def _u32s(data: bytes, body: int, end: int, *, skip: int, count: int | None = None, wide=False):
    """A table of big-endian integers after ``skip`` bytes; its count is the u32 before it."""
    if count is None:
        if body + skip > end:
            raise NotMp4("sample table cut short")
        count = struct.unpack(">I", data[body + skip - 4 : body + skip])[0]
    size = 8 if wide else 4
    if body + skip + count * size > end:
        raise NotMp4("sample table cut short")
    table = array("Q" if wide else "I", data[body + skip : body + skip + count * size])
    if sys.byteorder == "little":
        table.byteswap()
    return table


def _sample_sizes(moov: bytes, stbl: dict[bytes, tuple[int, int]]) -> list[int]:
    if b"stsz" in stbl:
        body, end = stbl[b"stsz"]
        if body + 12 > end:
            raise NotMp4("stsz box cut short")
        uniform, count = struct.unpack(">II", moov[body + 4 : body + 12])
        return [uniform] * count if uniform else list(_u32s(moov, body, end, skip=12))
    if b"stz2" in stbl:
        body, end = stbl[b"stz2"]
        bits, count = moov[body + 7], struct.unpack(">I", moov[body + 8 : body + 12])[0]
        raw = moov[body + 12 : end]
        if bits == 16:
            return [struct.unpack(">H", raw[i : i + 2])[0] for i in range(0, 2 * count, 2)]
        if bits == 8:
            return list(raw[:count])
        return [(raw[i // 2] >> (4 if i % 2 == 0 else 0)) & 15 for i in range(count)]
    raise NotMp4("the video track has no sample size table")


def _chunk_offsets(moov: bytes, stbl: dict[bytes, tuple[int, int]]):
    if b"stco" in stbl:
        return _u32s(moov, *stbl[b"stco"], skip=8)
    if b"co64" in stbl:
        return _u32s(moov, *stbl[b"co64"], skip=8, wide=True)
    raise NotMp4("the video track has no chunk offset table")


def _chunk_firsts(moov: bytes, stsc: tuple[int, int], chunks: int, samples: int) -> list[int]:
    """The 0-based number of each chunk's first sample, from the sample-to-chunk runs."""
    body, end = stsc
    if body + 8 > end:
        raise NotMp4("stsc box cut short")
    runs = _u32s(
        moov, body, end, skip=8, count=3 * struct.unpack(">I", moov[body + 4 : body + 8])[0]
    )
    firsts: list[int] = []
    sample = 0
    for i in range(0, len(runs) - len(runs) % 3, 3):
        first_chunk, per_chunk = runs[i], runs[i + 1]
        last_chunk = runs[i + 3] - 1 if i + 3 < len(runs) else chunks
        if first_chunk < 1 or last_chunk < first_chunk - 1 or last_chunk > chunks:
            raise NotMp4("sample-to-chunk table is not in order")
        for _chunk in range(first_chunk, last_chunk + 1):
            firsts.append(sample)
            sample += per_chunk
    if len(firsts) != chunks or sample != samples:
        raise NotMp4(f"sample tables disagree: {sample} samples in chunks, {samples} sizes")
    return firsts


def _check_chunks(offsets, firsts: list[int], prefix: list[int], mdat: list[tuple[int, int]]):
    """Every chunk of samples lies inside one mdat payload: nothing was cut off or moved."""
    starts = [start for start, _end in mdat]
    for chunk, offset in enumerate(offsets):
        last = firsts[chunk + 1] if chunk + 1 < len(firsts) else len(prefix) - 1
        length = prefix[last] - prefix[firsts[chunk]]
        if length == 0:
            continue
        box = bisect_right(starts, offset) - 1
        if box < 0 or offset + length > mdat[box][1]:
            raise NotMp4(
                f"samples {firsts[chunk] + 1}..{last} at bytes {offset}..{offset + length} lie "
                "outside the file's media data (truncated or cut)"
            )


def quiet_opencv():
    """OpenCV, quiet: a broken segment is reported by us, not by FFmpeg's log on stderr."""
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    import cv2

    return cv2


def opencv_duration(path: Path) -> float | None:
    """Frame count / fps from OpenCV (the slow fallback); None when OpenCV cannot tell."""
    cv2 = quiet_opencv()
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
