"""Demo step: the pre-exam checklist against the demo site, manual items answered."""

from __future__ import annotations

from ppe_tech.checklist.answers import parse_confirm
from ppe_tech.checklist.labels import timeliness_label, verdict_label
from ppe_tech.checklist.model import load_checklist
from ppe_tech.checklist.results import save_run
from ppe_tech.checklist.runner import FAIL, Answer, run_checklist
from ppe_tech.i18n import _, current_language, ngettext, set_language, site_language


def run(demo) -> str:
    site = demo.site
    checklist = load_checklist("pre-exam", site)
    by = f"{site.config.staff['technician'].name} (demo)"
    manual = [i.id for i in checklist.items if i.probe is None]
    answers = parse_confirm(tuple(manual), by)
    # the technician of the (Russian) demo point writes in Russian
    answers["staff-phone"] = Answer(FAIL, "нет гудка, звонили с мобильного", by)
    caller = current_language()
    set_language(site_language(site.config.point.language))  # stored texts: the point's language
    try:
        result = run_checklist(checklist, site, site.exam(demo.exam_id), answers)
    finally:
        set_language(caller)
    run_id = save_run(demo.db, result)
    failed = [r.item.id for r in result.results if not r.passed]
    summary = ngettext(
        "run {run} {verdict}, {n} item, {timeliness}",
        "run {run} {verdict}, {n} items, {timeliness}",
        len(result.results),
    ).format(
        run=run_id,
        verdict=verdict_label("passed" if result.passed else "failed"),
        n=len(result.results),
        timeliness=timeliness_label(result.late_minutes),
    )
    if failed:
        summary += "; " + _("not passed: {items}").format(items=", ".join(failed))
    return summary
