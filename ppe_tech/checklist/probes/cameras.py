"""Probe type ``cameras``: the camera verification of ``ppe-tech cameras verify`` as a checklist item.

    probe: {type: cameras}                      # every camera of ppe.yaml
    probe: {type: cameras, zone: auditorium}    # or one zone
    probe: {type: cameras, cameras: [aud-0001-a, entrance], sample: 3s}

Passes when no camera fails; the message is the cameras job's summary of the run when a
camera is not ok (a failure, or a warning such as a missing reference). The run is stored like one of ``cameras verify`` (``cameras show``), under
today's exam. Give the item a timeout above the cameras' open + 2 x read timeouts +
sample + ~7 s (40s covers the defaults).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from ppe_tech.checklist.probes import Outcome, ProbeContext, ProbeFailed, ProbeSpec, probe
from ppe_tech.i18n import _, current_language
from ppe_tech.site import Duration, Zone


class CamerasSpec(ProbeSpec):
    type: Literal["cameras"]
    zone: Zone | None = None
    cameras: list[str] = []
    sample: Duration = timedelta(seconds=3)


@probe("cameras", CamerasSpec)
def cameras(spec: CamerasSpec, ctx: ProbeContext) -> Outcome:
    # imported when the probe runs: a station's light checklist never loads the cameras job
    from ppe_tech.cameras.pak_entry import summary
    from ppe_tech.cameras.verify import run_verification
    from ppe_tech.errors import PpeError
    from ppe_tech.store import connect
    from ppe_tech.timeutil import utc_now

    site = ctx.site
    if site is None:
        raise ProbeFailed(_("no site: the cameras probe needs ppe.yaml"))
    exam = site.select_exam(None, utc_now())
    conn = connect(site.db_path)
    try:
        run = run_verification(
            site,
            conn,
            spec.cameras,
            spec.zone,
            exam_id=exam.id if exam else None,
            sample=spec.sample.total_seconds(),
        )
    except PpeError as exc:
        raise ProbeFailed(str(exc), _("error"), _("all cameras ok")) from None
    finally:
        conn.close()
    ok = sum(1 for c in run.cameras if c.status == "ok")
    value = _("{ok}/{total} ok (run {run})").format(ok=ok, total=len(run.cameras), run=run.run_id)
    message = summary(run, current_language()) if ok < len(run.cameras) else ""
    if any(c.status == "fail" for c in run.cameras):
        return Outcome.failed(message, value, _("all cameras ok"))
    return Outcome.passed(value, _("all cameras ok"), message)
