"""Default thresholds of the picture and stream judgement; a camera may override any of them.

Kept free of heavy imports: ``ppe_tech.site`` validates ``cameras[].thresholds`` keys
against ``DEFAULT_THRESHOLDS`` when ppe.yaml is loaded.
"""

from __future__ import annotations

# name: (default, meaning)
THRESHOLD_DOCS: dict[str, tuple[float, str]] = {
    "min_fps_ratio": (0.75, "low_fps when delivered fps < this x expected fps"),
    "stall_gap_s": (
        1.0,
        "a gap between frames longer than this (and stall_frame_intervals) is a stall",
    ),
    "stall_frame_intervals": (
        3.0,
        "... and longer than this many frame intervals at the expected fps",
    ),
    "overload_lag_s": (
        1.0,
        "checker_overloaded when reading fell this many seconds behind the stream's timestamps",
    ),
    "overload_wait_pct": (
        30.0,
        "checker_overloaded when the check waited for a CPU more than this % of the sample",
    ),
    "black_mean": (20.0, "black when mean brightness (0-255) is below this"),
    "black_p99_factor": (2.5, "... and the brightest 1% of pixels is below this x black_mean"),
    "uniform_std": (6.0, "uniform when the smoothed picture's contrast (std, 0-255) is below this"),
    "overexposed_pct": (50.0, "overexposed when more than this % of pixels are saturated (>= 250)"),
    "frozen_motion_pct": (
        0.005,
        "frozen when less than this % of the picture changes beyond noise over the sample (0: never)",
    ),
    "blurred_ratio": (0.5, "blurred when sharpness is below this fraction of the reference's"),
    "blurred_unless_covered_pct": (
        60.0,
        "not blurred when more than this % of the picture is covered (covered says it)",
    ),
    "covered_pct": (
        30.0,
        "covered when more than this % of the reference's structured cells are lost",
    ),
    "covered_cell_corr": (
        0.5,
        "a cell is lost when its correlation with the reference is below this",
    ),
    "moved_shift_pct": (5.0, "moved when the view shifted by more than this % of the frame"),
    "moved_rotation_deg": (3.0, "moved when the view rotated by more than this many degrees"),
    "moved_scale_pct": (15.0, "moved when the view zoomed in or out by more than this %"),
    "align_shift_pct": (
        1.0,
        "covered is judged on the picture warped onto the reference past this % shift",
    ),
}
DEFAULT_THRESHOLDS: dict[str, float] = {name: value for name, (value, _) in THRESHOLD_DOCS.items()}


def check_threshold_keys(camera_id: str, thresholds: dict[str, float]) -> None:
    """Raise ValueError naming the camera when a threshold key is unknown."""
    unknown = sorted(set(thresholds) - set(DEFAULT_THRESHOLDS))
    if unknown:
        known = ", ".join(DEFAULT_THRESHOLDS)
        raise ValueError(
            f"camera {camera_id}: unknown threshold {', '.join(unknown)} (known: {known})"
        )


def effective_thresholds(overrides: dict[str, float]) -> dict[str, float]:
    return {**DEFAULT_THRESHOLDS, **overrides}
