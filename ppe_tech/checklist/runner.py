"""Run a checklist: probes in parallel, each bounded by its own timeout, manual items asked.

A hung probe cannot be killed from Python, so each attempt runs in a daemon
thread that the runner stops waiting for after the item's timeout: the run
goes on, the item is reported as a timeout, and the thread is abandoned.
"""

from __future__ import annotations

import getpass
import math
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from ppe_tech.checklist.model import Checklist, Item, Text
from ppe_tech.checklist.probes import PROBE_TYPES, Outcome, ProbeContext, ProbeFailed, runs_on
from ppe_tech.children import kill_all
from ppe_tech.i18n import _
from ppe_tech.site import Exam, Site
from ppe_tech.timeutil import utc_now

PASS, FAIL, TIMEOUT, ERROR, SKIP = "pass", "fail", "timeout", "error", "skip"
UNANSWERED = "unanswered"  # a manual item nobody confirmed
INTERRUPTED = "interrupted"  # the run was stopped (Ctrl-C) before this item finished
MAX_PARALLEL_PROBES = 32


@dataclass(frozen=True)
class Answer:
    """A manual confirmation: pass (yes), fail (no) or skip, with who and why."""

    status: str
    comment: str | None = None
    by: str | None = None


@dataclass
class ItemResult:
    item: Item
    status: str
    value: str | None = None
    expected: str | None = None
    message: str = ""
    duration_ms: int = 0
    attempts: int = 1
    answered_by: str | None = None
    comment: str | None = None
    finished_at: datetime = field(default_factory=utc_now)

    @property
    def passed(self) -> bool:
        return self.status == PASS


@dataclass(kw_only=True)
class RunResult:
    checklist: Checklist
    exam: Exam | None
    started_at: datetime
    finished_at: datetime
    deadline: datetime | None
    results: list[ItemResult]
    disabled: list[str]
    operator: str
    interrupted: bool = False

    @property
    def late_minutes(self) -> int | None:
        if self.deadline is None:
            return None
        late = (self.finished_at - self.deadline).total_seconds()
        return max(0, math.ceil(late / 60))

    @property
    def timeliness(self) -> str:
        late = self.late_minutes
        if late is None:
            return "no deadline (no exam selected)"
        return "on time" if late == 0 else f"late by {late} min"

    @property
    def passed(self) -> bool:
        critical = (r for r in self.results if r.item.severity == "critical")
        return not self.interrupted and all(r.passed for r in critical)


def _attempt(item: Item, site: Site | None, shared: ProbeContext) -> Outcome:
    box: list[Outcome] = []
    assert item.probe is not None
    probe_type = PROBE_TYPES[item.probe.type]

    def target() -> None:
        try:
            ctx = ProbeContext(site, item.timeout, shared.run_cache, shared.run_lock)
            box.append(probe_type.run(item.probe, ctx))
        except ProbeFailed as exc:
            box.append(Outcome.failed(exc.message, exc.value, exc.expected))
        except Exception as exc:  # a probe's own bug or an unexpected OS error: record, go on
            box.append(Outcome(ERROR, message=f"{type(exc).__name__}: {exc}"))

    worker = threading.Thread(target=target, name=f"probe-{item.id}", daemon=True)
    worker.start()
    worker.join(item.timeout)
    if not box:
        return Outcome(
            TIMEOUT,
            expected=None,
            message=_("no answer within {seconds}s").format(seconds=f"{item.timeout:g}"),
        )
    return box[0]


def run_probe_item(item: Item, site: Site | None, shared: ProbeContext | None = None) -> ItemResult:
    """One automatic item with its retries; never takes longer than (retries+1) x timeout.

    ``shared`` carries the run-wide cache of ``ProbeContext.once``; a fresh one if None.
    """
    shared = shared or ProbeContext(site, item.timeout)
    began = time.monotonic()
    attempts = 0
    outcome = Outcome(ERROR, message=_("not run"))
    for _attempt_number in range(item.retries + 1):
        attempts += 1
        outcome = _attempt(item, site, shared)
        if outcome.status == PASS:
            break
    return ItemResult(
        item=item,
        status=outcome.status,
        value=outcome.value,
        expected=outcome.expected,
        message=outcome.message,
        duration_ms=round(1000 * (time.monotonic() - began)),
        attempts=attempts,
    )


def run_probes(
    items: list[Item],
    site: Site | None,
    on_result: Callable[[ItemResult], None] | None = None,
    max_parallel: int = MAX_PARALLEL_PROBES,
) -> dict[str, ItemResult]:
    results: dict[str, ItemResult] = {}
    shared = ProbeContext(site, 0)
    slots = threading.BoundedSemaphore(max_parallel)
    lock = threading.Lock()

    def work(item: Item) -> None:
        with slots:
            result = run_probe_item(item, site, shared)
        with lock:
            results[item.id] = result
            if on_result:
                on_result(result)

    workers = [threading.Thread(target=work, args=(i,), daemon=True) for i in items]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def asked_by_hand(item: Item, *, platform: str = sys.platform, by_hand: bool = False) -> bool:
    """Manual items; with ``by_hand`` every item; else probes that cannot run on ``platform``."""
    if item.probe is None or by_hand:
        return True
    return not runs_on(item.probe, platform)


def _hand_result(item: Item, answer: Answer | None, platform: str) -> ItemResult:
    note = ""
    if item.probe is not None and not runs_on(item.probe, platform):
        note = _("{probe} probe not available on this platform ({platform}); asked by hand").format(
            probe=item.probe.type, platform=platform
        )
    if answer is None:
        return ItemResult(item, UNANSWERED, message=note or _("not confirmed"))
    value = {PASS: _("yes"), FAIL: _("no"), SKIP: _("skipped")}[answer.status]
    return ItemResult(
        item,
        answer.status,
        value=value,
        expected=_("yes"),
        message=note,
        answered_by=answer.by,
        comment=answer.comment,
    )


def join_interruptibly(thread: threading.Thread) -> None:
    """``thread.join()`` that Ctrl-C can interrupt: on Windows a join without a timeout
    blocks KeyboardInterrupt until the thread ends."""
    while thread.is_alive():
        thread.join(0.2)


def _mask_text(text: Text, site: Site) -> Text:
    return Text(ru=site.redact(text.ru), en=site.redact(text.en))


def mask_result(result: ItemResult, site: Site | None) -> ItemResult:
    """The result with every secret masked in every text field (titles included).

    The one place a secret is taken out on the way from the runner to the terminal,
    ``--json``, ``--junit`` and the store: everything a result carries passes here.
    """
    if site is None:
        return result
    item = replace(
        result.item,
        title=_mask_text(result.item.title, site),
        section_title=_mask_text(result.item.section_title, site),
    )

    def clean(value: str | None) -> str | None:
        return None if value is None else site.redact(value)

    return replace(
        result,
        item=item,
        value=clean(result.value),
        expected=clean(result.expected),
        message=site.redact(result.message),
        comment=clean(result.comment),
        answered_by=clean(result.answered_by),
    )


def run_checklist(
    checklist: Checklist,
    site: Site | None,
    exam: Exam | None = None,
    answers: dict[str, Answer] | None = None,
    *,
    ask: Callable[[Item], Answer | None] | None = None,
    on_result: Callable[[ItemResult], None] | None = None,
    now: Callable[[], datetime] = utc_now,
    platform: str = sys.platform,
    by_hand: bool = False,
) -> RunResult:
    """Run every item not disabled by the site; manual items from ``answers``, else ``ask``.

    Probes that cannot run on ``platform`` (or every probe, with ``by_hand``) are asked
    like manual items. A Ctrl-C (KeyboardInterrupt) ends the run early without losing what
    is done: the result has ``interrupted`` set and the unfinished items say so.
    """
    answers = answers or {}
    disabled_ids = set(site.config.checks.disabled) if site else set()
    items = [i for i in checklist.items if i.id not in disabled_ids]
    started = now()
    done: dict[str, ItemResult] = {}

    def finished(result: ItemResult) -> None:
        result = mask_result(result, site)
        done[result.item.id] = result
        if on_result:
            on_result(result)

    hand = [i for i in items if asked_by_hand(i, platform=platform, by_hand=by_hand)]
    hand_ids = {i.id for i in hand}
    automatic = [i for i in items if i.id not in hand_ids]
    background = threading.Thread(target=run_probes, args=(automatic, site, finished), daemon=True)
    background.start()  # the technician answers manual items while the probes run
    interrupted = False
    try:
        for item in hand:
            answer = answers.get(item.id) or (ask(item) if ask else None)
            finished(_hand_result(item, answer, platform))
        join_interruptibly(background)
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (ppe_tech.interrupts)
        interrupted = True
    finally:
        kill_all()  # no probe's child outlives the run

    ordered = [
        done.get(i.id)
        or mask_result(ItemResult(i, INTERRUPTED, message=_("the run was interrupted first")), site)
        for i in items
    ]
    return RunResult(
        checklist=replace(checklist, title=_mask_text(checklist.title, site))
        if site
        else checklist,
        exam=exam,
        started_at=started,
        finished_at=now(),
        deadline=site.deadline(exam) if (site and exam) else None,
        results=ordered,
        disabled=sorted(disabled_ids & {i.id for i in checklist.items}),
        operator=getpass.getuser(),
        interrupted=interrupted,
    )
