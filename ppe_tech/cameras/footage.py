"""Camera footage made from a real clip: untouched, or tampered in one known way.

Used by the demo (five demo cameras, one tampered) and by the tests and the benchmark
(each finding of the picture judgement against a variant of real CCTV footage).
Files are written with OpenCV's ``mp4v`` encoder, atomically (temp file, rename).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

VARIANTS = (
    "untouched",
    "covered",
    "black",
    "uniform",
    "blurred",
    "shifted",
    "rotated",
    "frozen",
    "low_fps",
    "brighter",
    "darker",
    "noise",
    "still",
    "still_clock",
)


def tamper(frame: np.ndarray, variant: str, rng: np.random.Generator) -> np.ndarray:
    """One frame of ``variant`` (frozen, low_fps and the still ones are made in make_variant)."""
    h, w = frame.shape[:2]
    if variant in ("untouched", "frozen", "low_fps"):
        return frame
    if variant == "covered":  # a sheet of paper over the left 60% of the lens
        out = frame.copy()
        sheet = np.full((h, int(w * 0.6), 3), 180, np.uint8)
        out[:, : int(w * 0.6)] = cv2.add(sheet, rng.integers(0, 4, sheet.shape, dtype=np.uint8))
        return out
    if variant == "black":
        return np.clip(rng.normal(4, 1.5, frame.shape), 0, 255).astype(np.uint8)
    if variant == "uniform":  # a "no signal" screen
        return np.full_like(frame, (200, 80, 30))
    if variant == "blurred":
        return cv2.GaussianBlur(frame, (0, 0), 6)
    if variant == "shifted":  # panned right by 12% of the width
        matrix = np.float32([[1, 0, -0.12 * w], [0, 1, 0]])
        return cv2.warpAffine(frame, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
    if variant == "rotated":
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), 9, 1.0)
        return cv2.warpAffine(frame, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
    if variant == "brighter":
        return cv2.convertScaleAbs(frame, alpha=1.3)
    if variant == "darker":
        return cv2.convertScaleAbs(frame, alpha=0.7)
    if variant == "noise":  # sensor noise, sigma 10 grey levels
        return np.clip(frame.astype(np.float32) + rng.normal(0, 10, frame.shape), 0, 255).astype(
            np.uint8
        )
    raise ValueError(f"unknown variant {variant!r} (known: {', '.join(VARIANTS)})")


def _still(frame: np.ndarray, t: float, clock: bool, rng: np.random.Generator) -> np.ndarray:
    """The same view with fresh sensor noise (sigma 3), and, if ``clock``, the camera's
    on-screen date and time ticking every second, as CCTV cameras burn it in."""
    out = np.clip(frame.astype(np.float32) + rng.normal(0, 3, frame.shape), 0, 255).astype(np.uint8)
    if clock:
        text = f"25.05.2026 09:{int(t) // 60:02d}:{int(t) % 60:02d}"
        for colour, thickness in (((0, 0, 0), 4), ((255, 255, 255), 1)):
            cv2.putText(
                out, text, (12, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.6, colour, thickness, cv2.LINE_AA
            )
    return out


def read_frames(source: Path, seconds: float, start: float = 0.0) -> tuple[list[np.ndarray], float]:
    """Frames of ``source`` from ``start`` for ``seconds``, and the clip's fps."""
    cap = cv2.VideoCapture(str(source), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        raise OSError(f"cannot read {source}")
    fps = cap.get(cv2.CAP_PROP_FPS) or 10.0
    if start:
        cap.set(cv2.CAP_PROP_POS_MSEC, start * 1000)
    frames = []
    while len(frames) < round(seconds * fps):
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    if not frames:
        raise OSError(f"no frames in {source}")
    return frames, fps


def write_clip(path: Path, frames: list[np.ndarray], fps: float) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not writer.isOpened():
        raise OSError(f"cannot write {path}")
    for frame in frames:
        writer.write(frame)
    writer.release()
    os.replace(tmp, path)
    return path


def make_variant(
    frames: list[np.ndarray], fps: float, variant: str, path: Path, seed: int = 7
) -> Path:
    """Write ``frames`` tampered as ``variant`` to ``path`` (mp4v)."""
    rng = np.random.default_rng(seed)
    if variant == "frozen":  # the encoder repeats one picture: the fps counter still runs
        out = [frames[len(frames) // 2]] * len(frames)
    elif variant == "low_fps":  # every fifth frame, at a fifth of the rate
        out, fps = frames[::5], fps / 5
    elif variant in ("still", "still_clock"):  # nobody moves: a live sensor's noise only
        out = [
            _still(frames[len(frames) // 2], i / fps, variant == "still_clock", rng)
            for i in range(len(frames))
        ]
    else:
        out = [tamper(f, variant, rng) for f in frames]
    return write_clip(path, out, fps)
