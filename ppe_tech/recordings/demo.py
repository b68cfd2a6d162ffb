"""Demo step: a day of recordings made from the shipped real clip, then yesterday's exam archived.

One segment is encoded once from ``demo_data/walkway.mp4`` (real CCTV footage;
320x240, slowed to 0.5 frames a second so that ten minutes fit in about a
megabyte) and hard-linked under every segment name of the layout: yesterday's
exam window with its margin for every demo camera, with one planted gap on
corridor-1, and the last twenty minutes for every camera, so that the pre-exam
``recording-live`` item of the checklist step passes. Then the corridor and
entrance footage of yesterday's exam is archived into the site's archive target
and the bag is verified.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ppe_tech.demo import step_line
from ppe_tech.fsutil import format_size
from ppe_tech.i18n import _
from ppe_tech.recordings.layout import compile_layout
from ppe_tech.timeutil import human_duration, utc_now

SEGMENT = timedelta(minutes=10)
FPS = 0.5
SIZE = (320, 240)
CLIP = Path(__file__).resolve().parent.parent / "demo_data" / "walkway.mp4"


def encode_segment(path: Path, seconds: float = SEGMENT.total_seconds()) -> Path:
    """A real MP4 (MPEG-4 part 2, OpenCV's writer) of the walkway clip, ``seconds`` long."""
    from ppe_tech.recordings.mp4 import quiet_opencv

    cv2 = quiet_opencv()
    cap = cv2.VideoCapture(str(CLIP), cv2.CAP_FFMPEG)
    frames = []
    try:
        clip_fps = cap.get(cv2.CAP_PROP_FPS) or 10
        step = max(1, round(clip_fps / FPS))
        index = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if index % step == 0:
                frames.append(cv2.resize(frame, SIZE, interpolation=cv2.INTER_AREA))
            index += 1
    finally:
        cap.release()
    if not frames:
        raise RuntimeError(f"cannot read the demo clip {CLIP}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}")  # the writer picks the container by extension
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), FPS, SIZE)
    try:
        for i in range(int(seconds * FPS)):
            writer.write(frames[i % len(frames)])
    finally:
        writer.release()
    os.replace(tmp, path)
    return path


def _place(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    try:
        os.link(source, target)  # one inode for every name: the demo costs one segment of disk
    except OSError:
        shutil.copyfile(source, target)
        st = source.stat()
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))


def make_recordings(site, past_exam_id: str, now: datetime, gap_camera: str = "corridor-1") -> dict:
    """Lay out yesterday's window and the last twenty minutes; return counts and the planted gap."""
    rec = site.config.recordings
    from zoneinfo import ZoneInfo

    root = site.path(rec.root)
    layout = compile_layout(rec.layout)
    tz = ZoneInfo(rec.timezone)
    root.mkdir(parents=True, exist_ok=True)
    master = encode_segment(root / ".ppe-demo" / "segment.mp4")
    closed = (now - timedelta(minutes=5)).timestamp()
    os.utime(master, (closed, closed))
    exam = site.exam(past_exam_id)
    margin = site.config.archive.margin
    first = (exam.start_at(site.tz) - margin).astimezone(UTC) - SEGMENT
    first = first.replace(minute=first.minute - first.minute % 10, second=0, microsecond=0)
    last = (exam.end_at(site.tz) + margin).astimezone(UTC) + SEGMENT
    gap_at = exam.start_at(site.tz).astimezone(UTC).replace(second=0, microsecond=0) + timedelta(
        hours=1
    )
    gap_at = gap_at.replace(minute=gap_at.minute - gap_at.minute % 10)
    cameras = [c.id for c in site.config.cameras]
    count = 0
    moment = first
    while moment < last:
        for cam in cameras:
            if cam == gap_camera and moment == gap_at:
                continue  # the planted gap: the camera rebooted, ten minutes are missing
            _place(master, root / layout.path_for(cam, moment, tz))
            count += 1
        moment += SEGMENT
    # the last twenty minutes for every camera, closed a few seconds ago (a separate inode: fresh mtime)
    live = root / ".ppe-demo" / "live.mp4"
    shutil.copyfile(master, live)
    fresh = (now - timedelta(seconds=rec.settle.total_seconds() + 5)).timestamp()
    os.utime(live, (fresh, fresh))
    for cam in cameras:
        for back in (2, 1):
            start = (
                now.replace(microsecond=0)
                - SEGMENT * back
                - timedelta(seconds=rec.settle.total_seconds() + 5)
            )
            _place(live, root / layout.path_for(cam, start, tz))
            count += 1
    return {
        "segments": count,
        "cameras": len(cameras),
        "gap": (gap_camera, gap_at, gap_at + SEGMENT),
        "segment_bytes": master.stat().st_size,
    }


def run(demo) -> str:
    from ppe_tech.recordings.archive import archive_exam, archive_target, plan_archive
    from ppe_tech.recordings.bag import verify_bag

    site = demo.site
    now = utc_now()
    made = make_recordings(site, demo.past_exam_id, now)
    made_line = _(
        "{segments} segments of {cameras} cameras ({size} each, hard links of one real segment)"
    ).format(
        segments=made["segments"], cameras=made["cameras"], size=format_size(made["segment_bytes"])
    )
    demo.log(step_line("recordings", made_line))
    plan = plan_archive(site, demo.db, demo.past_exam_id)
    result = archive_exam(site, demo.db, plan, archive_target(site).path, log=demo.log)
    bag = Path(result.stored.bag_path)
    check = verify_bag(bag)
    verdict = (
        _("bag valid")
        if check.valid
        else _("bag INVALID ({n} problems)").format(n=len(check.problems))
    )
    record = result.record
    gaps = ", ".join(f"{g['camera']} {human_duration(g['seconds'])}" for g in record.gaps)
    return _(
        "{segments} segments made; exam {exam}: {files} files, {size} archived to {bag}, "
        "{verdict}, gaps: {gaps}"
    ).format(
        segments=made["segments"],
        exam=demo.past_exam_id,
        files=record.file_count,
        size=format_size(record.total_bytes),
        bag=bag.resolve().relative_to(demo.folder),  # archive/NAME: a path, not words
        verdict=verdict,
        gaps=gaps or _("none"),
    )
