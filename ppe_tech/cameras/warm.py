"""Imported once by the camera forkserver (``verify._context``), before it forks a worker.

The first call of OpenCV's, numpy's and PyAV's routines in a process does one-time set-up
(dispatch tables, code paths, FFmpeg's decoder registry). Measured: the picture judgement
and the snapshot's JPEG cost 101 ms of CPU on their first call in a fresh process, 60 ms
after. Done here once, every camera worker inherits that set-up instead of repeating it:
about 2 s of CPU in a run of 48 cameras. ``gc.freeze()`` then keeps the workers' garbage
collections off the inherited objects, so their memory stays shared instead of copied.
"""

from __future__ import annotations

import gc

import av
import cv2
import numpy as np

from ppe_tech.cameras.analysis import judge, to_analysis
from ppe_tech.cameras.thresholds import DEFAULT_THRESHOLDS
from ppe_tech.keyframes import decode_alone
from ppe_tech.resources import PACKAGE_DIR

CLIP = PACKAGE_DIR / "demo_data" / "walkway.mp4"  # H.264, shipped with the package


def _first_key_frame() -> bytes | None:
    """The clip's first packet as a camera worker receives it (OpenCV raw mode, Annex B)."""
    cap = cv2.VideoCapture(str(CLIP), cv2.CAP_FFMPEG, [cv2.CAP_PROP_FORMAT, -1])
    try:
        if not cap.grab():
            return None
        ok, data = cap.retrieve()
        return data.tobytes() if ok and data is not None else None
    finally:
        cap.release()


def warm_up() -> None:
    """Run a camera's picture work once on the demo clip: decode, judge, encode the snapshot
    (not the reference PNG: capturing references is rare, and PNG costs 22 ms here)."""
    try:
        packet = _first_key_frame()
        pictures = decode_alone("h264", packet) if packet else []
    except (av.FFmpegError, ValueError):
        pictures = []
    picture = (
        pictures[0].to_ndarray(format="bgr24") if pictures else np.zeros((576, 768, 3), np.uint8)
    )
    frames = [to_analysis(np.roll(picture, 8 * i, axis=1)) for i in range(3)]
    judge(frames, picture, DEFAULT_THRESHOLDS, source_width=picture.shape[1])
    cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 85])


warm_up()
gc.freeze()
