"""Demo step: the pre-exam checklist against the demo site, manual items answered."""

from __future__ import annotations

from ppe_tech.checklist.answers import parse_confirm
from ppe_tech.checklist.model import load_checklist
from ppe_tech.checklist.results import save_run
from ppe_tech.checklist.runner import FAIL, Answer, run_checklist


def run(demo) -> str:
    site = demo.site
    checklist = load_checklist("pre-exam", site)
    by = f"{site.config.staff['technician'].name} (demo)"
    manual = [i.id for i in checklist.items if i.probe is None]
    answers = parse_confirm(tuple(manual), by)
    answers["staff-phone"] = Answer(FAIL, "no dial tone; mobile phone used instead", by)
    result = run_checklist(checklist, site, site.exam(demo.exam_id), answers)
    run_id = save_run(demo.db, result)
    failed = [r.item.id for r in result.results if not r.passed]
    verdict = "passed" if result.passed else "FAILED"
    return f"run {run_id} {verdict}, {len(result.results)} items, {result.timeliness}" + (
        f"; not passed: {', '.join(failed)}" if failed else ""
    )
