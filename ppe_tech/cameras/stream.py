"""Judge a stream by what the camera sent, not by how fast this machine read it.

The worker records one ``Unit`` per frame it received: when it arrived (this machine's
monotonic clock) and, where the source carries them, its presentation timestamp (PTS,
the camera's clock). Delivered fps, stalls and gaps come from the PTS when they can be
trusted (RTSP and files), from the arrival times otherwise (HTTP MJPEG carries no
timestamps; local devices). A worker starved of CPU reads the same packets later, in a
burst: their PTS still say 15 fps, so a busy laptop does not make a ``low_fps`` camera.

Whether this machine kept up is measured separately and reported as ``checker_overloaded``
(a warning of the run, never a camera failure):

* ``lag_s``: how far the reading fell behind the stream (arrival time minus PTS, grown
  over the sample): packets waiting in the socket because the worker did not run;
* ``wait_pct``: the share of the sample the worker spent waiting for a CPU (Linux
  ``/proc/self/schedstat``; not measured elsewhere). It counts where timing is judged by
  arrival (MJPEG, devices), and for a timeout; on the PTS clock a reading that waited but
  kept up was judged right.

Pure Python (no cv2): the rules are tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ppe_tech.cameras.findings import finding, say

STALLED, LOW_FPS, OVERLOADED = "stalled", "low_fps", "checker_overloaded"


@dataclass(frozen=True)
class Unit:
    """One frame (an undecoded packet, or a decoded frame for devices) as received."""

    arrival: float  # monotonic seconds
    pts: float | None  # seconds on the camera's clock, None when the source has none
    key: bool = False


@dataclass
class Received:
    """What a worker received during its sample."""

    units: list[Unit] = field(default_factory=list)
    warm_until: float = 0.0  # units arriving before this are the open burst: not counted
    stopped: tuple[float, float] | None = None  # (after_s, waited_s) when the stream stopped
    ended: bool = False  # a file ended before the sample did
    trust_pts: bool = True
    read_timeout: float = 5.0
    wait_s: float | None = None  # time spent waiting for a CPU during the sample

    def counted(self) -> list[Unit]:
        return [u for u in self.units if u.arrival >= self.warm_until]


def clock_of(received: Received) -> tuple[str, list[float]]:
    """("pts" | "arrival", sorted times in seconds) of the counted units."""
    counted = received.counted()
    pts = [u.pts for u in counted if u.pts is not None]
    if received.trust_pts and len(pts) == len(counted) and len(set(pts)) == len(pts):
        return "pts", sorted(pts)
    return "arrival", [u.arrival for u in counted]


OPEN_BURST_S = 0.5  # stream time FFmpeg may buffer while it probes on open (analyzeduration)


def lag_s(received: Received, window: int = 5) -> float:
    """How much later than the stream's own pace the units were read (0 without PTS).

    The lag (arrival minus PTS, from the first unit) is median-filtered over ``window``
    units: the RTSP demuxer hands a frame over when the next one starts, so the frame
    before a camera's pause arrives late on its own; a worker that falls behind stays late.
    Behind is the larger of the lag's growth and its fall past the open burst: a worker that
    got the CPU only late reads a backlog at once, seconds of stream in no time.
    """
    pairs = [(u.arrival, u.pts) for u in received.units if u.pts is not None]
    if len(pairs) < window or not received.trust_pts:
        return 0.0
    a0, p0 = pairs[0]
    lags = [(a - a0) - (p - p0) for a, p in pairs]
    smooth = [sorted(lags[i : i + window])[window // 2] for i in range(len(lags) - window + 1)]
    growth, lowest = 0.0, smooth[0]
    for lag in smooth:  # the growth of the lag, never the camera bursting ahead
        lowest = min(lowest, lag)
        growth = max(growth, lag - lowest)
    # the demuxer may hold every frame one frame interval (0.5 s at 2 fps): that is the
    # camera's slowness, not this machine's
    steps = sorted(b - a for (_, a), (_, b) in zip(pairs, pairs[1:], strict=False))
    interval = steps[len(steps) // 2]
    return max(0.0, max(growth, -min(lags) - OPEN_BURST_S) - interval)


def schedstat_wait_s(pid: int | str = "self") -> float | None:
    """Seconds a process has waited for a CPU so far (Linux ``schedstat``), else None."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def starved_finding(wait_s: float | None, elapsed_s: float, t: dict[str, float], what: str):
    """``checker_overloaded`` when the worker waited for a CPU past the bound while ``what``
    happened (the open timed out, no frame came), else None: that is this machine, not
    the camera."""
    if wait_s is None or elapsed_s <= 0:
        return None
    wait_pct = 100.0 * wait_s / elapsed_s
    if wait_pct <= t["overload_wait_pct"]:
        return None
    return finding(
        OVERLOADED,
        say("busy_camera", what=what, pct=f"{wait_pct:.0f}%"),
        severity="warning",
        wait_pct=round(wait_pct, 1),
        threshold_wait_pct=t["overload_wait_pct"],
    )


# findings that only say "nothing came in time": on a starved machine, the machine's fault
TIMED = ("timeout", "no_frames")


def blame_machine(
    findings: list[dict[str, Any]], busy: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Replace the findings that only say "too late" (``TIMED``, a stream that "stopped" on
    the read timeout) by the overload finding ``busy``; others stand."""
    if busy is None:
        return findings
    late = [f for f in findings if f["code"] in TIMED or (f["code"] == STALLED and "after_s" in f)]
    if not late:
        return findings
    return [f for f in findings if f not in late and f["code"] != OVERLOADED] + [busy]


def overload(received: Received, sample: float, t: dict[str, float]) -> dict[str, Any] | None:
    """The ``checker_overloaded`` finding when this machine could not keep up, else None."""
    behind = lag_s(received)
    wait_pct = 100.0 * received.wait_s / sample if received.wait_s is not None else None
    over_lag = behind > t["overload_lag_s"]
    # on the PTS clock a reading that waited but kept up was judged right: only the lag counts
    by_arrival = clock_of(received)[0] == "arrival"
    over_wait = by_arrival and wait_pct is not None and wait_pct > t["overload_wait_pct"]
    if not (over_lag or over_wait):
        return None
    parts = []
    if over_lag:
        parts.append(say("fell_behind", seconds=f"{behind:.1f}"))
    if over_wait:
        parts.append(say("waited_cpu", pct=f"{wait_pct:.0f}%"))
    numbers: dict[str, Any] = {"lag_s": round(behind, 2), "threshold_lag_s": t["overload_lag_s"]}
    if wait_pct is not None:
        numbers.update(wait_pct=round(wait_pct, 1), threshold_wait_pct=t["overload_wait_pct"])
    text = say("busy_stream", how=" and ".join(parts))
    return finding(OVERLOADED, text, severity="warning", **numbers)


def gap_limit(t: dict[str, float], expected_fps: float | None) -> float:
    intervals = t["stall_frame_intervals"] / expected_fps if expected_fps else 0.0
    return max(t["stall_gap_s"], intervals)


def measure(received: Received, expected_fps: float | None, t: dict[str, float]) -> dict[str, Any]:
    """fps, stalls and the longest gap of the counted units, on the trusted clock."""
    clock, times = clock_of(received)
    limit = gap_limit(t, expected_fps)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    metrics: dict[str, Any] = {
        "clock": clock,
        "frames_received": len(received.units),
        "stalls": sum(1 for g in gaps if g > limit),
        "longest_gap_ms": round(1000 * max(gaps, default=0.0)),
        "gap_limit_s": round(limit, 2),
    }
    # while it sends: the stalls are their own finding, they do not also lower the fps
    stalled = sum(g for g in gaps if g > limit)
    span = times[-1] - times[0] - stalled if times else 0.0
    if len(times) - metrics["stalls"] >= 2 and span > 0:
        metrics["fps"] = round((len(times) - 1 - metrics["stalls"]) / span, 2)
    return metrics


def stream_findings(
    received: Received, metrics: dict[str, Any], expected_fps: float | None, t: dict[str, float]
) -> list[dict[str, Any]]:
    """``stalled`` and ``low_fps`` from the measures (``metrics`` of ``measure``)."""
    if received.stopped is not None:
        return [_stopped(received.stopped, received.read_timeout)]
    out = []
    if metrics["stalls"]:
        longest = metrics["longest_gap_ms"] / 1000
        out.append(
            finding(
                STALLED,
                say("stalls", stalls=metrics["stalls"], seconds=f"{longest:.1f}"),
                stalls=metrics["stalls"],
                gap_s=round(longest, 2),
                threshold_s=metrics["gap_limit_s"],
            )
        )
    fps = metrics.get("fps")
    if expected_fps and fps is None and not received.ended:
        out.append(finding(LOW_FPS, say("few_frames"), fps=0.0, expected_fps=expected_fps))
    elif expected_fps and fps is not None and fps < t["min_fps_ratio"] * expected_fps:
        out.append(
            finding(
                LOW_FPS,
                say("low_fps", fps=f"{fps:.1f}", expected=f"{expected_fps:g}"),
                fps=fps,
                expected_fps=expected_fps,
                ratio=round(fps / expected_fps, 3),
                threshold=t["min_fps_ratio"],
            )
        )
    return out


def _stopped(stopped: tuple[float, float], read_timeout: float) -> dict[str, Any]:
    after, waited = max(0.0, stopped[0]), stopped[1]
    if waited >= 0.9 * read_timeout:
        text = say("stopped", after=f"{after:.1f}", seconds=f"{waited:.1f}")
    else:
        text = say("ended", after=f"{after:.1f}")
    return finding(
        STALLED, text, after_s=round(after, 2), gap_s=round(waited, 2), timeout_s=read_timeout
    )


def judge_stream(
    received: Received, *, sample: float, expected_fps: float | None, t: dict[str, float]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Findings and measures of the stream; ``checker_overloaded`` when this machine lagged.

    On the arrival clock a busy machine would look like a slow camera: there the timing
    findings give way to the overload warning. On the PTS clock they stand.
    """
    metrics = measure(received, expected_fps, t)
    if expected_fps:
        metrics["expected_fps"] = expected_fps
    findings = stream_findings(received, metrics, expected_fps, t)
    busy = overload(received, sample, t)
    if busy is not None:
        metrics["checker_lag_s"] = busy["lag_s"]
        if metrics["clock"] == "arrival" and received.stopped is None:
            findings = [f for f in findings if f["code"] not in (STALLED, LOW_FPS)]
        findings.append(busy)
    return findings, metrics
