"""Judge a camera's picture against its approved reference, with numbers behind every finding.

Every measure is built to ignore a change of light and sensor noise:

* frames are shrunk to ``ANALYSIS_WIDTH`` with area averaging (noise averages out) and the
  picture judged is the per-pixel median of the sampled frames (people walking through
  the view and flicker drop out);
* sharpness is Laplacian energy divided by the picture's own contrast, so scaling the
  brightness up or down by 30% leaves it unchanged;
* "covered" compares the structure of each cell of a grid with the reference's by
  zero-mean normalised correlation of smoothed intensities, which is blind to gain and
  offset; cells that are flat in the reference (a white wall) are not counted;
* "moved" registers the picture on the reference with ORB features and RANSAC
  (rotation, scale, shift), falling back to phase correlation for a pure shift.

Public entry: ``judge(frames, reference, thresholds)`` -> ``(findings, metrics)``.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from ppe_tech.cameras.findings import finding, say

ANALYSIS_WIDTH = 480  # pixels; pictures are judged at this width (aspect kept)
GRID = (8, 6)  # cells across, down for "covered"
MIN_CELL_STD = 5.0  # a reference cell flatter than this carries no structure to lose
MIN_INLIERS = 12  # feature matches needed to trust a registration


def to_analysis(image: np.ndarray, width: int = ANALYSIS_WIDTH) -> np.ndarray:
    """Grey, at most ``width`` pixels wide (area averaging), uint8."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    h, w = grey.shape[:2]
    if w > width:
        grey = cv2.resize(grey, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
    return grey


def _r(value: float, digits: int = 2) -> float:
    return round(float(value), digits)


def median_frame(frames: list[np.ndarray], most: int = 9) -> np.ndarray:
    if len(frames) == 1:
        return frames[0]
    picks = [frames[round(i)] for i in np.linspace(0, len(frames) - 1, min(most, len(frames)))]
    return np.median(np.stack(picks), axis=0).astype(np.uint8)


def sharpness(grey: np.ndarray) -> float:
    """Laplacian energy relative to contrast: invariant to gain and offset of the light."""
    g = grey.astype(np.float32)
    contrast = float(g.std())
    if contrast < 1e-3:
        return 0.0
    lap = cv2.Laplacian(g, cv2.CV_32F, ksize=3)
    return float(np.sqrt((lap * lap).mean())) / contrast


def change(frames: list[np.ndarray]) -> float:
    """Median mean-absolute difference (0-255) between consecutive frames (informative)."""
    if len(frames) < 3:
        return float("nan")
    diffs = [
        float(np.abs(b.astype(np.int16) - a.astype(np.int16)).mean())
        for a, b in zip(frames, frames[1:], strict=False)
    ]
    return float(np.median(diffs))


MOTION_LEVEL = 10.0  # grey levels a smoothed pixel must move by to count as a change in the scene


def motion(frames: list[np.ndarray]) -> float:
    """Largest % of the picture that changed against the first frame beyond noise.

    Compared at the analysis width, smoothed (sigma 1.5 px): sensor noise and the
    encoder's drift between key frames stay below ``MOTION_LEVEL`` (measured: not one
    pixel of 172,800 in a repeated picture, over RTSP or from a file), while a person
    walking changes 5-15% of the frame and the seconds of an on-screen clock about
    0.05%. That is why a still, empty room with a running clock is not frozen.
    """
    if len(frames) < 3:
        return float("nan")

    def smooth(frame: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(frame.astype(np.float32), (0, 0), 1.5)

    first = smooth(frames[0])
    return max(100.0 * float((np.abs(smooth(f) - first) > MOTION_LEVEL).mean()) for f in frames[1:])


def register(reference: np.ndarray, picture: np.ndarray) -> dict[str, Any] | None:
    """Similarity transform mapping the reference onto the picture, or None if not found.

    Returns dx, dy (shift of the frame centre, pixels at analysis scale), rotation in
    degrees, scale, the inlier count, the 2x3 matrix and the method used.
    """
    orb = cv2.ORB_create(nfeatures=1000, fastThreshold=10)
    ref_s = cv2.GaussianBlur(reference, (3, 3), 0)
    pic_s = cv2.GaussianBlur(picture, (3, 3), 0)
    kp1, des1 = orb.detectAndCompute(ref_s, None)
    kp2, des2 = orb.detectAndCompute(pic_s, None)
    h, w = reference.shape[:2]
    centre = np.array([w / 2.0, h / 2.0])
    if (
        des1 is not None
        and des2 is not None
        and len(kp1) >= MIN_INLIERS
        and len(kp2) >= MIN_INLIERS
    ):
        matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
        pairs = matcher.knnMatch(des1, des2, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
        if len(good) >= MIN_INLIERS:
            src = np.float32([kp1[m.queryIdx].pt for m in good])
            dst = np.float32([kp2[m.trainIdx].pt for m in good])
            matrix, inliers = cv2.estimateAffinePartial2D(
                src,
                dst,
                method=cv2.RANSAC,
                ransacReprojThreshold=3.0,
                maxIters=3000,
                confidence=0.995,
            )
            count = int(inliers.sum()) if inliers is not None else 0
            if matrix is not None and count >= MIN_INLIERS:
                moved_centre = matrix[:, :2] @ centre + matrix[:, 2]
                return {
                    "dx": float(moved_centre[0] - centre[0]),
                    "dy": float(moved_centre[1] - centre[1]),
                    "rotation": math.degrees(math.atan2(matrix[1, 0], matrix[0, 0])),
                    "scale": float(math.hypot(matrix[0, 0], matrix[1, 0])),
                    "inliers": count,
                    "matrix": matrix,
                    "method": "orb-ransac",
                }
    # few features: a pure shift by phase correlation, if it is clear
    window = cv2.createHanningWindow((w, h), cv2.CV_32F)
    (dx, dy), response = cv2.phaseCorrelate(
        reference.astype(np.float32), picture.astype(np.float32), window
    )
    if response < 0.1:
        return None
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return {
        "dx": dx,
        "dy": dy,
        "rotation": 0.0,
        "scale": 1.0,
        "inliers": 0,
        "matrix": matrix,
        "method": "phase-correlation",
        "response": response,
    }


def covered_cells(
    reference: np.ndarray, picture: np.ndarray, valid: np.ndarray, min_corr: float
) -> tuple[int, int, float]:
    """(lost, structured, mean correlation) over the grid; cells outside ``valid`` are skipped."""
    size = (160, max(1, round(reference.shape[0] * 160 / reference.shape[1])))
    ref = cv2.GaussianBlur(cv2.resize(reference, size, interpolation=cv2.INTER_AREA), (0, 0), 1.0)
    pic = cv2.GaussianBlur(cv2.resize(picture, size, interpolation=cv2.INTER_AREA), (0, 0), 1.0)
    ok = cv2.resize(valid.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    ref, pic = ref.astype(np.float32), pic.astype(np.float32)
    h, w = ref.shape
    cols, rows = GRID
    lost = structured = 0
    corrs = []
    for r in range(rows):
        for c in range(cols):
            ys = slice(r * h // rows, (r + 1) * h // rows)
            xs = slice(c * w // cols, (c + 1) * w // cols)
            if ok[ys, xs].mean() < 0.99:
                continue
            a, b = ref[ys, xs], pic[ys, xs]
            if a.std() < MIN_CELL_STD:
                continue
            structured += 1
            if b.std() < 1.0:
                corr = 0.0
            else:
                a0, b0 = a - a.mean(), b - b.mean()
                corr = float((a0 * b0).sum() / math.sqrt(float((a0 * a0).sum() * (b0 * b0).sum())))
            corrs.append(corr)
            if corr < min_corr:
                lost += 1
    return lost, structured, float(np.mean(corrs)) if corrs else float("nan")


def _measures(frames: list[np.ndarray], picture: np.ndarray) -> tuple[dict[str, Any], float]:
    """Brightness, contrast, saturation, sharpness and motion of the judged picture; and the
    unrounded % that moved (NaN with fewer than 3 frames)."""
    metrics: dict[str, Any] = {
        "brightness": _r(float(picture.mean()), 1),
        "contrast": _r(float(cv2.GaussianBlur(picture, (0, 0), 2.0).std()), 1),
        "saturated_pct": _r(100.0 * float((picture >= 250).mean()), 1),
        "sharpness": _r(sharpness(picture), 3),
        "analysed_frames": len(frames),
    }
    moved_pct = motion(frames)
    if not math.isnan(moved_pct):
        metrics["motion_pct"] = _r(moved_pct, 3)
        metrics["change"] = _r(change(frames), 3)
    return metrics, moved_pct


def _blank(picture: np.ndarray, m: dict[str, Any], t: dict[str, float]) -> list[dict[str, Any]]:
    """black / uniform / overexposed: a picture that shows nothing to compare."""
    mean, contrast, saturated = m["brightness"], m["contrast"], m["saturated_pct"]
    out = []
    bright_end = float(np.percentile(picture, 99))
    if mean < t["black_mean"] and bright_end < t["black_p99_factor"] * t["black_mean"]:
        out.append(
            finding(
                "black",
                say("black", brightness=f"{mean:.1f}"),
                brightness=mean,
                threshold=t["black_mean"],
            )
        )
    elif contrast < t["uniform_std"]:
        out.append(
            finding(
                "uniform",
                say("uniform", contrast=f"{contrast:.1f}"),
                contrast=contrast,
                brightness=mean,
                threshold=t["uniform_std"],
            )
        )
    if saturated > t["overexposed_pct"]:
        out.append(
            finding(
                "overexposed",
                say("overexposed", pct=f"{saturated:.0f}%"),
                saturated_pct=saturated,
                threshold=t["overexposed_pct"],
            )
        )
    return out


def _frozen(m: dict[str, Any], moved_pct: float, t: dict[str, float]) -> list[dict[str, Any]]:
    if math.isnan(moved_pct) or moved_pct >= t["frozen_motion_pct"]:
        return []
    n = m["analysed_frames"]
    return [
        finding(
            "frozen",
            say("frozen", frames=n, pct=f"{moved_pct:.3f}%"),
            motion_pct=_r(moved_pct, 3),
            frames=n,
            threshold=t["frozen_motion_pct"],
        )
    ]


def _moved_numbers(reg: dict[str, Any], w: int, h: int, to_source: float) -> dict[str, Any]:
    shift_x, shift_y = reg["dx"] * to_source, reg["dy"] * to_source
    shift_x_pct, shift_y_pct = 100 * abs(reg["dx"]) / w, 100 * abs(reg["dy"]) / h
    return {
        "shift_x_px": _r(shift_x, 1),
        "shift_y_px": _r(shift_y, 1),
        "shift_px": _r(math.hypot(shift_x, shift_y), 1),
        "shift_x_pct": _r(shift_x_pct, 1),
        "shift_y_pct": _r(shift_y_pct, 1),
        "shift_pct": _r(max(shift_x_pct, shift_y_pct), 1),
        "rotation_deg": _r(reg["rotation"], 1),
        "scale_pct": _r(100 * (reg["scale"] - 1), 1),
        "matches": reg["inliers"],
    }


def _moved(n: dict[str, Any], t: dict[str, float]) -> dict[str, Any] | None:
    """The ``moved`` finding from the registration's numbers, or None."""
    shift, rotation, scale = n["shift_pct"], n["rotation_deg"], n["scale_pct"]
    if not (
        shift > t["moved_shift_pct"]
        or abs(rotation) > t["moved_rotation_deg"]
        or abs(scale) > t["moved_scale_pct"]
    ):
        return None
    parts = [say("shifted", px=f"{n['shift_px']:.0f}", pct=f"{shift:.1f}%")]
    if abs(rotation) >= 0.5:
        parts.append(say("rotated", degrees=f"{rotation:.1f}"))
    if abs(scale) >= 2:
        parts.append(say("zoomed", pct=f"{scale:+.0f}%"))
    return finding(
        "moved",
        say("moved", how=", ".join(parts)),
        **n,
        threshold_shift_pct=t["moved_shift_pct"],
        threshold_rotation_deg=t["moved_rotation_deg"],
        threshold_scale_pct=t["moved_scale_pct"],
    )


def _align(ref: np.ndarray, picture: np.ndarray, t: dict[str, float], to_source: float, out: list):
    """Register the picture on the reference: (aligned picture, valid mask, metrics); the
    ``moved`` finding goes to ``out``."""
    h, w = picture.shape[:2]
    valid = np.ones_like(picture, dtype=bool)
    reg = register(ref, picture)
    if reg is None:
        out.append(finding("moved", say("no_features"), matches=0))
        return picture, valid, {"registration": "none"}
    numbers = _moved_numbers(reg, w, h, to_source)
    moved = _moved(numbers, t)
    if moved is not None:
        out.append(moved)
    metrics = {**numbers, "registration": reg["method"]}
    if (
        moved is None
        and numbers["shift_pct"] <= t["align_shift_pct"]
        and abs(reg["rotation"]) <= 0.5
    ):
        return picture, valid, metrics
    # compare structure where the two views overlap: warp the picture back
    inverse = cv2.invertAffineTransform(reg["matrix"])
    aligned = cv2.warpAffine(picture, inverse, (w, h), flags=cv2.INTER_LINEAR)
    valid = cv2.warpAffine(np.ones_like(picture), inverse, (w, h), flags=cv2.INTER_NEAREST) > 0
    return aligned, valid, metrics


def _covered(
    ref, aligned, valid, *, t: dict[str, float], ratio: float, out: list
) -> dict[str, Any]:
    """covered and blurred against the reference; their measures."""
    lost, structured, mean_corr = covered_cells(ref, aligned, valid, t["covered_cell_corr"])
    covered_pct = 100.0 * lost / structured if structured else 0.0
    if structured and covered_pct > t["covered_pct"]:
        out.append(
            finding(
                "covered",
                say("covered", pct=f"{covered_pct:.0f}%", lost=lost, cells=structured),
                covered_pct=_r(covered_pct, 1),
                cells_lost=lost,
                cells=structured,
                threshold=t["covered_pct"],
            )
        )
    mostly_covered = structured and covered_pct > t["blurred_unless_covered_pct"]
    if not math.isnan(ratio) and ratio < t["blurred_ratio"] and not mostly_covered:
        out.append(
            finding(
                "blurred",
                say("blurred", pct=f"{100 * ratio:.0f}%"),
                sharpness_ratio=_r(ratio, 3),
                threshold=t["blurred_ratio"],
            )
        )
    return {"covered_pct": _r(covered_pct, 1), "structure_corr": _r(mean_corr, 3)}


def judge(
    frames: list[np.ndarray],
    reference: np.ndarray | None,
    thresholds: dict[str, float],
    source_width: int | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Findings and measures for the sampled ``frames`` (analysis-size grey, in order).

    ``reference`` is the approved picture (any size, BGR or grey) or None; positions are
    reported in pixels of the source (``source_width``) and in percent of the frame.
    """
    t = thresholds
    picture = median_frame(frames)
    h, w = picture.shape[:2]
    metrics, moved_pct = _measures(frames, picture)
    findings = _blank(picture, metrics, t)
    blank = bool(findings)
    if not blank:
        findings += _frozen(metrics, moved_pct, t)
    if reference is None:
        findings.append(
            finding(
                "no_reference",
                say("no_reference"),
                severity="warning",
            )
        )
        return findings, metrics
    ref = to_analysis(reference)
    if ref.shape != picture.shape:
        ref = cv2.resize(ref, (w, h), interpolation=cv2.INTER_AREA)
    ref_sharp = sharpness(ref)
    ratio = metrics["sharpness"] / ref_sharp if ref_sharp > 0 else float("nan")
    metrics["sharpness_ratio"] = _r(ratio, 3)
    if blank:
        return findings, metrics
    aligned, valid, aligned_metrics = _align(ref, picture, t, (source_width or w) / w, findings)
    metrics.update(aligned_metrics)
    metrics.update(_covered(ref, aligned, valid, t=t, ratio=ratio, out=findings))
    return findings, metrics
