"""One camera, in its own process: receive the stream for the whole sample, decode a few frames.

``worker_main(job, conn, slots)`` is the process entry (run through a forkserver that has
this module, OpenCV and numpy preloaded). It reports progress and the result over ``conn``
as ``(kind, data)`` tuples: ``("phase", {...})`` then exactly one ``("result", {...})``.
The parent kills the process if it outlives its phase's time bound.

Network cameras are read undecoded: OpenCV's FFmpeg backend in raw mode
(``CAP_PROP_FORMAT=-1``) hands over each packet with its key-frame flag
(``CAP_PROP_LRF_HAS_KEY_FRAME``) and its presentation time (``CAP_PROP_POS_MSEC``; measured
on OpenCV 5.0: it follows the packet's PTS, a 2 s pause of the camera shows as a 2.2 s
jump, while ``CAP_PROP_PTS`` counts in frames of the nominal fps). Receiving costs almost
no CPU, so every camera is received for its whole sample at once. The handful of frames
the picture judgement needs are decoded each holding one of the run's decode ``slots`` (as
many as ``cameras.parallel``): H.264/H.265 key frames one by one as they arrive, by a
background thread (``_Ahead``: FFmpeg's decoder through PyAV, no probing), so the idle
time of the sample is used; when those are not enough (long key-frame intervals, other
codecs, a key frame that does not decode), after the sample through OpenCV, the frames of
the first ``DECODE_SPAN_S`` after the first key frame. Files are read the same way, paced
at their own timestamps like a camera; local devices (V4L2, no raw mode) are decoded as
they are read.

FFmpeg/OpenCV diagnostics (which may print the source URL with its password) go to a
private temporary file, never to the terminal; the parent masks them before use.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import os
import tempfile
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# FFmpeg's own error lines (e.g. "method DESCRIBE failed: 401 Unauthorized") into the worker's
# private log: read by OpenCV when it loads FFmpeg, so set before cv2 is imported (this
# module is preloaded by the forkserver, whose children are the camera workers).
os.environ.setdefault("OPENCV_FFMPEG_DEBUG", "1")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "24")  # AV_LOG_WARNING and worse

import av  # noqa: E402
import cv2  # noqa: E402
import numpy as np  # noqa: E402

from ppe_tech.cameras.analysis import judge, to_analysis  # noqa: E402
from ppe_tech.cameras.findings import finding, say  # noqa: E402
from ppe_tech.cameras.sources import precheck  # noqa: E402
from ppe_tech.cameras.stream import (  # noqa: E402
    TIMED,
    Received,
    Unit,
    blame_machine,
    judge_stream,
    schedstat_wait_s,
    starved_finding,
)
from ppe_tech.keyframes import decode_alone  # noqa: E402

LIVE_WARMUP_S = 0.5  # frames of a live source in this time after the first are the open burst
KEEP_EVERY_S = 0.19  # decoded frames judged: at most ~5 a second
DECODE_SPAN_S = 1.5  # without enough key frames: decode this long after the first one
MIN_KEYS, MIN_KEY_SPAN_S = 3, 1.0  # key frames alone suffice when this many span this long
MOST_FRAMES = 9  # frames judged at most
KEEP_BYTES = 32 * 1024**2  # undecoded packets kept per camera at most
MAX_DECODE_PIXELS = 3840 * 2160  # larger pictures are not decoded (memory): too_large
FFMPEG_OPTIONS = {
    # TCP interleaved RTP: no lost packets, passes NAT and firewalls; probe briefly on open
    "rtsp": "rtsp_transport;tcp|analyzeduration;500000|probesize;65536",
    "http": "analyzeduration;500000|probesize;65536",
}


@dataclass
class Packets:
    """Undecoded packets kept for decoding: a chain after the first key frame, later key frames."""

    head: bytes = b""  # codec configuration (Annex B SPS/PPS, MPEG-4 VOL) sent before packets
    chain: list[tuple[float, bytes]] = field(default_factory=list)
    keys: list[tuple[float, bytes]] = field(default_factory=list)
    size: int = 0

    def offer(self, t: float, key: bool, cap: cv2.VideoCapture) -> bytes | None:
        """Keep the packet just read if it may be decoded; its bytes when kept."""
        if self.size >= KEEP_BYTES or not (key or self.chain):
            return None
        in_chain = not self.chain or t - self.chain[0][0] <= DECODE_SPAN_S
        if not (in_chain or key):
            return None
        ok, data = cap.retrieve()
        if not ok or data is None:
            return None
        packet = (t, data.tobytes())
        self.size += len(packet[1])
        (self.chain if in_chain else self.keys).append(packet)
        return packet[1]

    def key_frames(self) -> list[tuple[float, bytes]]:
        return self.chain[:1] + self.keys


@dataclass
class Capture:
    """What a worker found: findings, metrics and the pictures it decoded."""

    findings: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    frames: list[np.ndarray] = field(default_factory=list)  # analysis size, grey, in order
    last: np.ndarray | None = None  # the last frame decoded, full size (snapshot, reference)

    def fail(self, code: str, message: str, **numbers: Any) -> Capture:
        self.findings.append(finding(code, message, **numbers))
        return self

    def add_frame(self, frame: np.ndarray) -> None:
        self.frames.append(to_analysis(frame))
        self.last = frame


def _open(job: dict[str, Any], timeout_s: float, raw: bool) -> cv2.VideoCapture:
    kind, source = job["kind"], job["source"]
    os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = FFMPEG_OPTIONS.get(kind, "")
    params = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
        max(200, int(1000 * timeout_s)),
        cv2.CAP_PROP_READ_TIMEOUT_MSEC,
        max(200, int(1000 * job["read_timeout"])),
        cv2.CAP_PROP_N_THREADS,
        1,  # one decoding thread: the run decodes in parallel processes
    ]
    if raw:
        params += [cv2.CAP_PROP_FORMAT, -1]
    if kind == "device":
        index = int(source) if source.isdigit() else int(source.removeprefix("/dev/video"))
        return cv2.VideoCapture(index, cv2.CAP_V4L2, params)
    return cv2.VideoCapture(source, cv2.CAP_FFMPEG, params)


def _reach(job: dict[str, Any], out: Capture, began: float) -> bool:
    """The quick network pre-check (or the file's existence); False with a finding if it fails."""
    kind = job["kind"]
    if kind == "file" and not Path(job["source"]).is_file():
        out.fail("unreachable", say("file_not_found", source=job["source"]))
        return False
    if kind not in ("rtsp", "http"):
        return True
    check = precheck(job["source"], job["open_timeout"])
    out.metrics.update(check.metrics())
    if not check.ok:
        numbers = {k: v for k, v in check.metrics().items() if k in ("status", "auth", "auth_note")}
        out.fail(check.code, check.message, elapsed_s=round(time.monotonic() - began, 2), **numbers)
    return check.ok


def _opened(job: dict[str, Any], out: Capture, began: float) -> cv2.VideoCapture | None:
    """Open the source within what is left of the open timeout; None with a finding if not."""
    timeout = job["open_timeout"]
    cap = _open(job, max(0.3, timeout - (time.monotonic() - began)), raw=job["kind"] != "device")
    opened = time.monotonic()
    if cap.isOpened():
        out.metrics["connect_ms"] = round(1000 * (opened - began))
        return cap
    if opened - began >= 0.95 * timeout:
        out.fail("timeout", say("open_timeout", seconds=f"{timeout:g}"), timeout_s=timeout)
    else:
        out.fail("unreachable", say("not_opened"))
    return None


def _head(cap: cv2.VideoCapture) -> bytes:
    """The codec configuration to send before packets (none for MP4's avcC/hvcC boxes:
    OpenCV's raw mode already puts SPS/PPS into every H.264/H.265 key frame)."""
    ok, extra = cap.retrieve(None, int(cap.get(cv2.CAP_PROP_CODEC_EXTRADATA_INDEX)))
    if not ok or extra is None or not extra.size or int(extra.ravel()[0]) == 1:
        return b""
    return extra.tobytes()


class _Reader:
    """Units of a source one by one: live as they come, a file paced at its own timestamps
    (played like a camera, starting over at its end)."""

    def __init__(self, cap: cv2.VideoCapture, kind: str):
        self.cap, self.file = cap, kind == "file"
        self.t0: float | None = None  # monotonic time of the file's PTS 0
        self.loop_base = self.last_pts = 0.0
        self.step = 1.0 / (cap.get(cv2.CAP_PROP_FPS) or 10.0)

    def next(self) -> tuple[bool, float | None]:
        """(grabbed, pts seconds)."""
        ok = self.cap.grab()
        if not ok and self.file and self.t0 is not None:
            self.loop_base = self.last_pts + self.step
            self.cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok = self.cap.grab()
        if not ok:
            return False, None
        pts = self.cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        if not self.file:
            return True, pts
        pts += self.loop_base
        self.last_pts = max(self.last_pts, pts)
        if self.t0 is None:
            self.t0 = time.monotonic() - pts
        wait = self.t0 + pts - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        return True, pts


def _receive(cap: cv2.VideoCapture, job: dict[str, Any], out: Capture, emit, keep) -> Received:
    """Read the source for the whole sample; ``keep(unit)`` sees every unit read and
    returns True while it still needs more (no key frame yet: read on, up to a read timeout)."""
    read_timeout, sample = job["read_timeout"], job["sample"]
    received = Received(trust_pts=job["kind"] in ("rtsp", "file"), read_timeout=read_timeout)
    reader = _Reader(cap, job["kind"])
    warmup = LIVE_WARMUP_S if job["kind"] != "file" else 0.0
    start_wait = schedstat_wait_s()
    last_at = time.monotonic()
    while True:
        ok, pts = reader.next()
        now = time.monotonic()
        if not received.units:
            if not ok:
                break
            received.warm_until = now + warmup
            out.metrics["first_frame_ms"] = round(1000 * (now - job["began"]))
        elif not ok or now - last_at >= 0.9 * read_timeout:
            # the read timeout fired inside FFmpeg: whatever came back is not a new frame
            received.stopped = (last_at - received.warm_until, now - last_at)
            break
        unit = Unit(now, pts, _is_key(cap))
        received.units.append(unit)
        wants_more = keep(unit)
        last_at = now
        if len(received.units) % 10 == 0:
            emit("reading", frames=len(received.units))
        over = now - (received.warm_until + sample)
        if over >= 0 and not (wants_more and over < read_timeout):
            break
    end_wait = schedstat_wait_s()
    if start_wait is not None and end_wait is not None:
        received.wait_s = end_wait - start_wait
    return received


def _is_key(cap: cv2.VideoCapture) -> bool:
    return cap.get(cv2.CAP_PROP_LRF_HAS_KEY_FRAME) > 0


def _decode(packets: Packets, out: Capture) -> None:
    """Decode the key frames when they are enough, else the chain after the first one."""
    keys = packets.key_frames()
    if _keys_suffice([t for t, _ in keys]):
        chosen, step = _spread(keys, MOST_FRAMES), 1
    else:
        chosen = packets.chain + packets.keys
        step = max(1, round(len(packets.chain) / MOST_FRAMES))
    frames = _decode_stream(packets.head, [data for _, data in chosen])
    if not frames:  # a codec whose packets do not form a stream (MJPEG): one picture each
        frames = [f for _, data in chosen if (f := _imdecode(data)) is not None]
    for i, frame in enumerate(frames):
        if i % step == 0 or i == len(frames) - 1 or i >= len(packets.chain):
            out.add_frame(frame)


def _keys_suffice(times: list[float]) -> bool:
    """Key frames at these stream times are enough for the judgement on their own."""
    return len(times) >= MIN_KEYS and times[-1] - times[0] >= MIN_KEY_SPAN_S


def _spread(items: list, most: int) -> list:
    if len(items) <= most:
        return items
    return [items[round(i)] for i in np.linspace(0, len(items) - 1, most)]


def _decode_stream(head: bytes, packets: list[bytes]) -> list[np.ndarray]:
    """Decode packets as one elementary stream (H.264/H.265 Annex B, MPEG-4) from memory."""
    if not packets:
        return []
    stream = io.BytesIO(head + b"".join(packets))
    decoder = cv2.VideoCapture(stream, cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    frames = []
    while decoder.isOpened() and len(frames) < len(packets):
        ok, frame = decoder.read()
        if not ok or frame is None:
            break
        frames.append(frame)
    decoder.release()
    return frames


def _imdecode(data: bytes) -> np.ndarray | None:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def _size_findings(job: dict[str, Any], out: Capture, width: int, height: int) -> None:
    out.metrics.update(width=width, height=height)
    want_w, want_h = job["expect"].get("width"), job["expect"].get("height")
    if (want_w and want_w != width) or (want_h and want_h != height):
        out.findings.append(
            finding(
                "resolution_mismatch",
                say(
                    "resolution",
                    size=f"{width}x{height}",
                    expected=f"{want_w or '*'}x{want_h or '*'}",
                ),
                severity="warning",
                width=width,
                height=height,
                expected_width=want_w,
                expected_height=want_h,
            )
        )


def _too_large(out: Capture, width: int, height: int) -> bool:
    if width * height <= MAX_DECODE_PIXELS:
        return False
    out.findings.append(
        finding(
            "too_large",
            say("too_large", size=f"{width}x{height}", mpx=f"{MAX_DECODE_PIXELS / 1e6:.1f}"),
            severity="warning",
            width=width,
            height=height,
            max_pixels=MAX_DECODE_PIXELS,
        )
    )
    return True


def _stream(cap, job, out: Capture, emit, ahead: _Ahead) -> tuple[Received, Packets | None]:
    """Receive the sample: packets kept undecoded (key frames handed to ``ahead`` as they
    come), or (devices) frames decoded as they come."""
    if job["kind"] != "device":
        packets = Packets(head=_head(cap))

        def keep_packet(unit: Unit) -> bool:
            data = packets.offer(unit.arrival, unit.key, cap)
            if data is not None and unit.key:
                ahead.offer(unit.arrival if unit.pts is None else unit.pts, packets.head + data)
            return not packets.chain

        return _receive(cap, job, out, emit, keep_packet), packets
    kept = [-1.0]

    def keep_frame(unit: Unit) -> bool:
        if unit.arrival - kept[0] >= KEEP_EVERY_S:
            ok, frame = cap.retrieve()
            if ok and frame is not None:
                out.add_frame(frame)
                kept[0] = unit.arrival
        return out.last is None

    received = _receive(cap, job, out, emit, keep_frame)
    received.trust_pts = False
    return received, None


class _Slots:
    """The run's decode slots as this worker uses them: a multiprocessing semaphore (None:
    no bound), and when this worker held one (Unix seconds, comparable between workers:
    the record shows the bound was kept)."""

    def __init__(self, semaphore):
        self.semaphore = semaphore
        self.spans: list[tuple[float, float]] = []

    @contextmanager
    def held(self):
        if self.semaphore is not None:
            self.semaphore.acquire()
        began = time.time()
        try:
            yield
        finally:
            self.spans.append((round(began, 3), round(time.time(), 3)))
            if self.semaphore is not None:
                self.semaphore.release()


@contextmanager
def _slot(slots: _Slots, emit):
    """Hold a decode slot for the work after the sample, saying so."""
    with slots.held():
        emit("decoding")
        yield


# FFmpeg decoders for key frames decoded on their own, by the code OpenCV reports
# (CAP_PROP_FOURCC): H.264 and H.265, what cameras send; other codecs (MJPEG, MPEG-4)
# are decoded after the sample, through OpenCV
KEY_DECODERS = {
    **dict.fromkeys(("h264", "avc1", "avc3", "x264"), "h264"),
    **dict.fromkeys(("hevc", "hev1", "hvc1", "h265"), "hevc"),
}


def _key_decoder(cap: cv2.VideoCapture) -> str | None:
    code = int(cap.get(cv2.CAP_PROP_FOURCC))
    return KEY_DECODERS.get("".join(chr((code >> 8 * i) & 0xFF) for i in range(4)).lower())


def _heap_trimmer():
    """glibc's ``malloc_trim``, None elsewhere."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError, TypeError):
        return None


# Freed decoder buffers stay in the decoding thread's malloc arena unless trimmed: measured
# 7 MB a worker at 720p, and with decoding during the sample all workers hold it at once
TRIM_HEAP = _heap_trimmer()


def _reference(job: dict[str, Any]) -> np.ndarray | None:
    """The approved picture at analysis size (grey), None without a readable one."""
    if job["mode"] == "reference" or not job.get("reference"):
        return None
    path = Path(job["reference"])
    image = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
    return None if image is None else to_analysis(image)


class _Ahead:
    """The picture work done while the stream is still being received, in one background
    thread of the worker: the reference read, and each H.264/H.265 key frame decoded on its
    own as it comes (at most one per ``every`` seconds of stream), each decode holding one of
    the run's decode slots. Receiving leaves the CPU mostly idle during the sample: this
    uses that time, so that once the sample ends only the judgement is left (on a busy
    machine, 48 cameras no longer queue their decodes behind the slots at the end)."""

    def __init__(self, job: dict[str, Any], slots: _Slots, decoder: str | None):
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ahead")
        self.reference = self.pool.submit(_reference, job)
        self.decodes: list[Future] = []
        self.slots, self.decoder = slots, decoder
        self.every = max(KEEP_EVERY_S, job["sample"] / MOST_FRAMES)
        self.offered_at = -float("inf")
        self.times: list[float] = []  # stream time of each decoded key frame
        self.frames: list[np.ndarray] = []  # analysis size, grey
        self.last: Any = None  # the last picture decoded (av.VideoFrame: YUV, half of BGR)
        self.failed = False
        self.decode_s = 0.0

    def offer(self, t: float, data: bytes) -> None:
        """A key frame just received (``t``: stream seconds): decode it unless too soon."""
        if self.decoder is None or t - self.offered_at < self.every:
            return
        self.offered_at = t
        self.decodes.append(self.pool.submit(self._decode, t, data))

    def _decode(self, t: float, data: bytes) -> None:
        if self.failed:
            return
        with self.slots.held():  # the full-size pictures exist only inside: memory bounded
            began = time.monotonic()
            try:
                decoded = decode_alone(self.decoder, data)
            except (av.FFmpegError, ValueError):
                decoded = None
            if decoded is None or any(p.is_corrupt for p in decoded):
                self.failed = True  # decoded after the sample instead, through OpenCV
                return
            for picture in decoded:
                self.times.append(t)
                self.frames.append(to_analysis(picture.to_ndarray(format="bgr24")))
                self.last = picture
            del decoded
            if TRIM_HEAP is not None:
                TRIM_HEAP(0)
            self.decode_s += time.monotonic() - began

    def finish(self) -> np.ndarray | None:
        """Wait for the work in flight (raising what it raised); the reference picture."""
        self.pool.shutdown(wait=True)
        for decode in self.decodes:
            decode.result()
        return self.reference.result()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def enough(self) -> bool:
        """The key frames decoded suffice for the judgement."""
        return not self.failed and _keys_suffice(self.times)

    def give(self, out: Capture) -> None:
        out.frames.extend(_spread(self.frames, MOST_FRAMES))
        out.last = self.last.to_ndarray(format="bgr24")


def _snapshot(job: dict[str, Any], out: Capture) -> dict[str, Any]:
    """The result dict, with the snapshot JPEG (and, capturing references, the PNG)."""
    result = {"findings": out.findings, "metrics": out.metrics}
    if out.last is None:
        if not any(f["code"] == "too_large" for f in out.findings):
            out.fail("no_frames", say("undecodable"))
        return result
    good, jpeg = cv2.imencode(".jpg", out.last, [cv2.IMWRITE_JPEG_QUALITY, 85])
    result["snapshot_jpeg"] = jpeg.tobytes() if good else None
    if job["mode"] == "reference":
        good, png = cv2.imencode(".png", out.last)
        result["reference_png"] = png.tobytes() if good else None
    return result


def _judge_picture(job: dict[str, Any], out: Capture, reference: np.ndarray | None) -> None:
    """Judge the decoded frames against the reference: findings and measures into ``out``."""
    path = Path(job["reference"]) if job.get("reference") else None
    judged = time.monotonic()
    found, measures = judge(
        out.frames, reference, job["thresholds"], source_width=out.metrics["width"]
    )
    out.metrics["analysis_ms"] = round(1000 * (time.monotonic() - judged))
    if path and path.is_file() and reference is None:
        for f in found:
            if f["code"] == "no_reference":
                f["message"] = say("bad_reference", name=path.name)
    out.findings.extend(found)
    out.metrics.update(measures)


def _judge(job, out: Capture, received: Received, nominal: float | None) -> None:
    expected = job["expect"].get("fps") or (nominal if job["kind"] == "file" else None)
    found, measures = judge_stream(
        received, sample=job["sample"], expected_fps=expected, t=job["thresholds"]
    )
    out.metrics.update(measures, decoded_frames=measures["frames_received"])
    if nominal:
        out.metrics["nominal_fps"] = nominal
    out.findings[:0] = found


def _no_frames(job: dict[str, Any], out: Capture) -> dict[str, Any]:
    timeout = job["read_timeout"]
    out.fail("no_frames", say("no_frame_within", seconds=f"{timeout:g}"), timeout_s=timeout)
    return {"findings": out.findings, "metrics": out.metrics}


def _decode_file(job: dict[str, Any], out: Capture) -> None:
    """A file whose codec does not decode from bare packets (MS MPEG-4 in AVI): decode it
    from its start instead."""
    cap = cv2.VideoCapture(job["source"], cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    kept_at = -1.0
    while len(out.frames) < MOST_FRAMES:
        ok, frame = cap.read()
        if not ok or frame is None:
            break
        pts = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        if pts - kept_at >= KEEP_EVERY_S:
            out.add_frame(frame)
            kept_at = pts
    cap.release()


def capture(job: dict[str, Any], emit, slots=None) -> dict[str, Any]:
    """Run the measurement of one camera; return findings, metrics and pictures.

    ``slots``: the run's decode semaphore (None: no bound); metric ``decode_slot_spans``
    says when this camera held one. A failure that only says "nothing came in time" while
    this process waited for a CPU most of that time is reported as ``checker_overloaded``
    instead (``blame_machine``).
    """
    job = {**job, "began": time.monotonic()}
    waited = schedstat_wait_s()
    held = _Slots(slots)
    result = _capture(job, emit, held)
    if held.spans:
        result["metrics"]["decode_slot_spans"] = held.spans
    now_waited = schedstat_wait_s()
    if waited is not None and now_waited is not None:
        what = ", ".join(
            f["code"] for f in result["findings"] if f["code"] in TIMED or f["code"] == "stalled"
        )
        busy = starved_finding(
            now_waited - waited, time.monotonic() - job["began"], job["thresholds"], what
        )
        result["findings"] = blame_machine(result["findings"], busy)
    return result


def _capture(job: dict[str, Any], emit, slots: _Slots) -> dict[str, Any]:
    out = Capture(metrics={"sample_s": job["sample"]})
    emit("connecting")
    if not _reach(job, out, job["began"]) or (cap := _opened(job, out, job["began"])) is None:
        return {"findings": out.findings, "metrics": out.metrics}
    nominal = cap.get(cv2.CAP_PROP_FPS)
    nominal = round(nominal, 2) if 0 < nominal < 240 else None
    size = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    decodable = job["kind"] == "device" or not _too_large(out, *size)
    ahead = _Ahead(job, slots, _key_decoder(cap) if decodable else None)
    emit("reading", connect_ms=out.metrics["connect_ms"])
    try:
        try:
            received, packets = _stream(cap, job, out, emit, ahead)
        finally:
            cap.release()
        if not received.units:
            return _no_frames(job, out)
        _judge(job, out, received, nominal)
        emit("waiting")
        reference = ahead.finish()
    finally:
        ahead.close()
    with _slot(slots, emit):
        if packets is not None and decodable:
            _decode_sample(job, out, packets, ahead)
        if out.last is not None:
            size = out.last.shape[1], out.last.shape[0]
        _size_findings(job, out, *size)
        result = _snapshot(job, out)
        judge_it = out.last is not None and job["mode"] != "reference"
        out.last = None  # full size: encoded, not kept past the slot (memory bounded)
    # the judgement works at the analysis width, on pictures already decoded: not bounded
    if judge_it:
        emit("analysing")
        _judge_picture(job, out, reference)
    return result


def _decode_sample(job: dict[str, Any], out: Capture, packets: Packets, ahead: _Ahead) -> None:
    """The frames to judge: the key frames decoded during the sample when they are enough,
    else decoded now from the packets kept (a file from its start if those fail)."""
    decoding = time.monotonic()
    out.metrics["decoded_ahead"] = len(ahead.frames)
    if ahead.enough():
        ahead.give(out)
    else:
        _decode(packets, out)
    if out.last is None and job["kind"] == "file":
        _decode_file(job, out)
    out.metrics["decode_ms"] = round(1000 * (time.monotonic() - decoding + ahead.decode_s))


def worker_main(job: dict[str, Any], conn, slots=None) -> None:
    """Process entry: capture one camera, send ("phase", ...)* then ("result", ...)."""
    import resource

    log = tempfile.TemporaryFile()
    os.dup2(log.fileno(), 2)  # FFmpeg/OpenCV write here, not to the technician's terminal
    os.dup2(log.fileno(), 1)

    def emit(phase: str, **data: Any) -> None:
        conn.send(("phase", {"phase": phase, **data}))

    try:
        result = capture(job, emit, slots)
    except Exception as exc:  # a bug or an OpenCV error: report it as this camera's result
        detail = traceback.format_exc(limit=3)
        result = {
            "findings": [
                finding("no_frames", say("capture_failed", error=f"{type(exc).__name__}: {exc}"))
            ],
            "metrics": {},
            "trace": detail,
        }
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result.setdefault("metrics", {})["cpu_ms"] = round(1000 * (usage.ru_utime + usage.ru_stime))
    log.seek(0, os.SEEK_END)
    size = log.tell()
    log.seek(max(0, size - 4000))
    result["log"] = log.read().decode("utf-8", "replace")
    conn.send(("result", result))
    conn.close()
