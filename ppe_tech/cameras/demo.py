"""Demo step: five cameras cut from a real CCTV clip, one tampered, verified against references.

Each demo camera's source is ``cameras/<id>.mp4`` in the demo site: 8 s of the shipped
walkway clip (each camera from a different moment), written with OpenCV. The reference
of every camera is a frame of its untouched footage; ``aud-0002-a`` then gets a sheet
of paper over most of its lens, so the verification finds it ``covered``.
"""

from __future__ import annotations

from pathlib import Path

from ppe_tech.i18n import _, current_language
from ppe_tech.resources import PACKAGE_DIR

CLIP = PACKAGE_DIR / "demo_data" / "walkway.mp4"
SECONDS = 8.0
TAMPERED = {"aud-0002-a": "covered"}


def make_footage(site, clip: Path = CLIP) -> dict[str, str]:
    """Write cameras/<id>.mp4 and references/<id>.png for every camera of the demo site."""
    import cv2

    from ppe_tech.cameras.footage import make_variant, read_frames
    from ppe_tech.fsutil import atomic_write_bytes

    variants = {}
    for n, camera in enumerate(site.config.cameras):
        frames, fps = read_frames(clip, SECONDS, start=(n * 4.0) % 20)
        variant = TAMPERED.get(camera.id, "untouched")
        make_variant(frames, fps, variant, site.path(camera.source))
        ok, png = cv2.imencode(".png", frames[0])
        atomic_write_bytes(site.file_in("references", f"{camera.id}.png"), png.tobytes())
        variants[camera.id] = variant
    return variants


def run(demo) -> str:
    from ppe_tech.cameras.pak_entry import summary
    from ppe_tech.cameras.verify import run_verification

    make_footage(demo.site)
    result = run_verification(demo.site, demo.db, exam_id=demo.exam_id, sample=2.0)
    return _("run {n}, {summary}").format(
        n=result.run_id, summary=summary(result, current_language())
    )
