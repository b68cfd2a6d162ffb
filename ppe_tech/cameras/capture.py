"""One camera, in its own process: open with timeouts, sample frames, judge the picture.

``worker_main(job, conn)`` is the process entry (run through a forkserver that has this
module, OpenCV and numpy preloaded). It reports progress and the result over ``conn``
as ``(kind, data)`` tuples: ``("phase", {...})`` then exactly one ``("result", {...})``.
The parent kills the process if it outlives its hard time bound, so a camera whose
driver hangs inside FFmpeg never holds up the run.

FFmpeg/OpenCV diagnostics (which may print the source URL with its password) go to a
private temporary file, never to the terminal; the parent masks them before use.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

# FFmpeg's own error lines (e.g. "method DESCRIBE failed: 401 Unauthorized") into the worker's
# private log: read by OpenCV when it loads FFmpeg, so set before cv2 is imported (this
# module is preloaded by the forkserver, whose children are the camera workers).
os.environ.setdefault("OPENCV_FFMPEG_DEBUG", "1")
os.environ.setdefault(
    "OPENCV_FFMPEG_LOGLEVEL", "24"
)  # AV_LOG_WARNING and worse (HTTP errors are warnings)

import cv2  # noqa: E402

from ppe_tech.cameras.analysis import finding, judge, to_analysis
from ppe_tech.cameras.sources import precheck

LIVE_WARMUP_S = 0.5  # frames of a live source in this time after the first are the open burst
KEEP_EVERY_S = (
    0.19  # frames decoded to pictures (and judged) at most ~5 a second; the rest only grabbed
)
FFMPEG_OPTIONS = {
    # TCP interleaved RTP: no lost packets, passes NAT and firewalls; probe briefly on open
    "rtsp": "rtsp_transport;tcp|analyzeduration;500000|probesize;65536",
    "http": "analyzeduration;500000|probesize;65536",
}


def _open(job: dict[str, Any], timeout_s: float) -> cv2.VideoCapture:
    kind, source = job["kind"], job["source"]
    os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = FFMPEG_OPTIONS.get(kind, "")
    params = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, max(200, int(1000 * timeout_s)),
        cv2.CAP_PROP_READ_TIMEOUT_MSEC, max(200, int(1000 * job["read_timeout"])),
    ]  # fmt: skip
    if kind == "device":
        index = int(source) if source.isdigit() else int(source.removeprefix("/dev/video"))
        return cv2.VideoCapture(index, cv2.CAP_V4L2, params)
    return cv2.VideoCapture(source, cv2.CAP_FFMPEG, params)


def capture(job: dict[str, Any], emit) -> dict[str, Any]:
    """Run the measurement of one camera; return findings, metrics and pictures."""
    began = time.monotonic()
    kind = job["kind"]
    live = kind != "file"
    open_timeout, read_timeout, sample = job["open_timeout"], job["read_timeout"], job["sample"]
    findings: list[dict[str, Any]] = []
    metrics: dict[str, Any] = {"sample_s": sample}
    out: dict[str, Any] = {"findings": findings, "metrics": metrics}

    def ms(t: float) -> int:
        return round(1000 * (t - began))

    emit("connecting")
    if kind in ("rtsp", "http"):
        check = precheck(job["source"], open_timeout)
        if check.connect_ms is not None:
            metrics["tcp_connect_ms"] = round(check.connect_ms)
        if check.status is not None:
            metrics["status"] = check.status
        if not check.ok:
            numbers = {"status": check.status} if check.status else {}
            findings.append(finding(check.code, check.message, elapsed_s=round(time.monotonic() - began, 2),
                                    **numbers))  # fmt: skip
            return out
    elif kind == "file" and not Path(job["source"]).is_file():
        findings.append(finding("unreachable", f"file not found: {job['source']}"))
        return out

    remaining = max(0.3, open_timeout - (time.monotonic() - began))
    cap = _open(job, remaining)
    opened = time.monotonic()
    if not cap.isOpened():
        if opened - began >= 0.95 * open_timeout:
            findings.append(finding("timeout", f"the stream did not open within {open_timeout:g}s",
                                    timeout_s=open_timeout))  # fmt: skip
        else:
            findings.append(finding("unreachable", "the stream could not be opened"))
        return out
    metrics["connect_ms"] = ms(opened)
    nominal = cap.get(cv2.CAP_PROP_FPS)
    nominal = nominal if 0 < nominal < 240 else None
    emit("reading", connect_ms=metrics["connect_ms"])

    ok, frame = cap.read()
    first = time.monotonic()
    if not ok or frame is None:
        findings.append(finding("no_frames", f"the stream opened but sent no frame within {read_timeout:g}s",
                                timeout_s=read_timeout))  # fmt: skip
        cap.release()
        return out
    metrics["first_frame_ms"] = ms(first)
    height, width = frame.shape[:2]
    metrics.update(width=width, height=height)

    expected_fps = job["expect"].get("fps") or (nominal if not live else None)
    t = job["thresholds"]
    gap_limit = max(t["stall_gap_s"], 3.0 / expected_fps if expected_fps else 0.0)
    warm_until = first + (LIVE_WARMUP_S if live else 0.0)
    end = warm_until + sample
    decoded, counted = 1, []
    frames = [to_analysis(frame)]
    last_kept = first
    last_frame, last_at = frame, first  # last_frame: the last one decoded to a picture
    stalls, longest_gap = 0, 0.0
    stopped: tuple[float, float] | None = None  # (after_s, waited_s) when the stream stopped
    # files are paced at their own timestamps, so that they deliver like a camera
    file_t0 = first - cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0 if not live else 0.0
    loop_base = 0.0
    last_ts = 0.0
    while time.monotonic() < end:
        ok = cap.grab()
        now = time.monotonic()
        if live and now - last_at >= 0.9 * read_timeout:
            # the read timeout fired inside FFmpeg: whatever came back is not a new frame
            stopped = (last_at - warm_until, now - last_at)
            break
        if not ok:
            if not live and decoded > 0:  # end of file: a camera does not end, start over
                loop_base = last_ts + (1.0 / nominal if nominal else 0.1)
                cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok = cap.grab()
                now = time.monotonic()
            if not ok:
                stopped = (now - warm_until, now - last_at)
                break
        if not live:
            last_ts = loop_base + cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            wait = file_t0 + last_ts - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            now = time.monotonic()
        decoded += 1
        gap = now - last_at
        if now >= warm_until:
            counted.append(now)
            if gap > gap_limit and last_at >= warm_until - 1e-9:
                stalls += 1
            longest_gap = max(longest_gap, gap) if last_at >= warm_until else longest_gap
        last_at = now
        if now - last_kept >= KEEP_EVERY_S:
            ok, frame = cap.retrieve()
            if ok and frame is not None:
                frames.append(to_analysis(frame))
                last_frame, last_kept = frame, now
        if decoded % 10 == 0:
            emit("reading", frames=decoded)
    cap.release()
    metrics.update(decoded_frames=decoded, stalls=stalls, longest_gap_ms=round(1000 * longest_gap))
    if len(counted) >= 2 and counted[-1] > counted[0]:
        metrics["fps"] = round((len(counted) - 1) / (counted[-1] - counted[0]), 2)
    if nominal:
        metrics["nominal_fps"] = round(nominal, 2)
    if expected_fps:
        metrics["expected_fps"] = expected_fps

    if stopped is not None:
        after, waited = stopped
        after = max(0.0, after)
        if waited >= 0.9 * read_timeout:
            text = f"the stream stopped {after:.1f}s into the sample: no frame for {waited:.1f}s"
        else:
            text = f"the stream ended {after:.1f}s into the sample"
        findings.append(finding("stalled", text, after_s=round(after, 2), gap_s=round(waited, 2),
                                timeout_s=read_timeout))  # fmt: skip
    elif stalls:
        findings.append(finding("stalled", f"{stalls} stall(s) in the sample, longest {longest_gap:.1f}s "
                                "without a frame", stalls=stalls, gap_s=round(longest_gap, 2),
                                threshold_s=round(gap_limit, 2)))  # fmt: skip
    fps = metrics.get("fps")
    if (
        stopped is None
        and expected_fps
        and fps is not None
        and fps < t["min_fps_ratio"] * expected_fps
    ):
        findings.append(finding("low_fps", f"{fps:.1f} fps delivered, {expected_fps:g} expected",
                                fps=fps, expected_fps=expected_fps, ratio=round(fps / expected_fps, 3),
                                threshold=t["min_fps_ratio"]))  # fmt: skip
    elif stopped is None and expected_fps and fps is None:
        findings.append(finding("low_fps", "fewer than 2 frames in the sample", fps=0.0,
                                expected_fps=expected_fps))  # fmt: skip
    want_w, want_h = job["expect"].get("width"), job["expect"].get("height")
    if (want_w and want_w != width) or (want_h and want_h != height):
        findings.append(finding("resolution_mismatch", f"{width}x{height}, expected {want_w or '*'}x{want_h or '*'}",
                                severity="warning", width=width, height=height,
                                expected_width=want_w, expected_height=want_h))  # fmt: skip

    good, jpeg = cv2.imencode(".jpg", last_frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
    out["snapshot_jpeg"] = jpeg.tobytes() if good else None
    if job["mode"] == "reference":
        good, png = cv2.imencode(".png", last_frame)
        out["reference_png"] = png.tobytes() if good else None
        return out

    emit("analysing")
    reference = None
    if job.get("reference") and Path(job["reference"]).is_file():
        reference = cv2.imread(job["reference"], cv2.IMREAD_COLOR)
    judged = time.monotonic()
    picture_findings, picture_metrics = judge(frames, reference, t, source_width=width)
    metrics["analysis_ms"] = round(1000 * (time.monotonic() - judged))
    if job.get("reference") and Path(job["reference"]).is_file() and reference is None:
        for f in picture_findings:
            if f["code"] == "no_reference":
                f["message"] = (
                    f"the reference {Path(job['reference']).name} cannot be read as an image"
                )
    findings.extend(picture_findings)
    metrics.update(picture_metrics)
    return out


def worker_main(job: dict[str, Any], conn) -> None:
    """Process entry: capture one camera, send ("phase", ...)* then ("result", ...)."""
    log = tempfile.TemporaryFile()
    os.dup2(log.fileno(), 2)  # FFmpeg/OpenCV write here, not to the technician's terminal
    os.dup2(log.fileno(), 1)

    def emit(phase: str, **data: Any) -> None:
        conn.send(("phase", {"phase": phase, **data}))

    try:
        result = capture(job, emit)
    except Exception as exc:  # a bug or an OpenCV error: report it as this camera's result
        detail = traceback.format_exc(limit=3)
        result = {"findings": [finding("no_frames", f"capture failed: {type(exc).__name__}: {exc}")],
                  "metrics": {}, "trace": detail}  # fmt: skip
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result.setdefault("metrics", {})["cpu_ms"] = round(1000 * (usage.ru_utime + usage.ru_stime))
    log.seek(0, os.SEEK_END)
    size = log.tell()
    log.seek(max(0, size - 4000))
    result["log"] = log.read().decode("utf-8", "replace")
    conn.send(("result", result))
    conn.close()
