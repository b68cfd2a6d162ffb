"""The ``recording_live`` probe: every camera is recording right now (recordings job)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from ppe_tech.checklist.probes import Outcome, ProbeContext, ProbeFailed, ProbeSpec, probe
from ppe_tech.i18n import _, ngettext
from ppe_tech.site import Duration


class RecordingLiveSpec(ProbeSpec):
    type: Literal["recording_live"]
    max_age: Duration = timedelta(minutes=2)  # the newest segment of each camera must be younger
    cameras: list[str] | None = None  # default: every camera in ppe.yaml
    zones: list[str] | None = None  # or only the cameras of these zones


@probe("recording_live", RecordingLiveSpec)
def recording_live(spec: RecordingLiveSpec, ctx: ProbeContext) -> Outcome:
    """Newest segment of each camera younger than ``max_age`` (end time, never later than mtime)."""
    # imported when the probe runs: a station's light checklist never loads the recordings job
    from ppe_tech.errors import PpeError
    from ppe_tech.recordings.index import index_site, newest_activity
    from ppe_tech.store import connect
    from ppe_tech.timeutil import human_duration, utc_now

    site = ctx.site
    if site is None:
        raise ProbeFailed(_("needs a site (recordings.root)"))
    cameras = spec.cameras or [
        c.id for c in site.config.cameras if spec.zones is None or c.zone in spec.zones
    ]
    if not cameras:
        raise ProbeFailed(_("no cameras to check (cameras: in ppe.yaml)"))
    now = utc_now()
    conn = None
    try:
        conn = connect(site.db_path)
        index = index_site(site, conn, now=now)
    except PpeError as exc:
        raise ProbeFailed(site.redact(exc.message)) from None
    finally:
        if conn is not None:
            conn.close()
    limit = spec.max_age.total_seconds()
    stale, ages = [], []
    for cam in cameras:
        last = newest_activity(index, cam)
        if last is None:
            stale.append(_("{camera} (no segments)").format(camera=cam))
            continue
        age = max(0.0, (now - last).total_seconds())
        ages.append(age)
        if age > limit:
            stale.append(_("{camera} ({age} ago)").format(camera=cam, age=human_duration(age)))
    expected = ngettext(
        "{n} camera, newest segment < {age}", "{n} cameras, newest segment < {age}", len(cameras)
    ).format(n=len(cameras), age=human_duration(spec.max_age))
    if stale:
        return Outcome.failed(
            _("not recording: {cameras}").format(cameras=", ".join(stale)),
            _("{live}/{total} live").format(live=len(cameras) - len(stale), total=len(cameras)),
            expected,
        )
    return Outcome.passed(
        _("{live}/{total} live, oldest {age}").format(
            live=len(cameras), total=len(cameras), age=human_duration(max(ages))
        ),
        expected,
    )
