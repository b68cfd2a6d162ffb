"""``ppe-tech check``: run checklists, list and show the stored runs."""

from __future__ import annotations

import getpass
import math
import sqlite3
import sys
import time
from datetime import datetime
from pathlib import Path

import click
from rich import box
from rich.padding import Padding
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column, Table
from rich.text import Text as RichText

from ppe_tech import interrupts
from ppe_tech.checklist.answers import check_known, load_answers, parse_confirm
from ppe_tech.checklist.labels import (
    counts_label,
    run_status_label,
    severity_label,
    status_label,
    timeliness_label,
    verdict_label,
)
from ppe_tech.checklist.model import load_checklist
from ppe_tech.checklist.recovery import RecoveryFile, import_recovery
from ppe_tech.checklist.results import (
    StoredResult,
    StoredRun,
    list_runs,
    load_run,
    result_row,
    run_row,
    save_rows,
    write_junit,
)
from ppe_tech.checklist.runner import (
    FAIL,
    PASS,
    TIMEOUT,
    UNANSWERED,
    asked_by_hand,
    run_checklist,
)
from ppe_tech.cli.common import (
    App,
    CommandGroup,
    exam_option,
    json_option,
    lang_option,
    manual_prompt,
    pass_app,
    print_json,
    progress_enabled,
    safe,
    stderr_console,
    stdout_console,
    wait_option,
)
from ppe_tech.errors import ExitCode, PpeError
from ppe_tech.i18n import _, current_language, ngettext
from ppe_tech.runlock import run_lock
from ppe_tech.store import store_error, transaction
from ppe_tech.timeutil import human_duration, iso, utc_now

STATUS_STYLE = {  # rich styles of the statuses ("none" for any other)
    "pass": "green",
    "fail": "red",
    "timeout": "red",
    "error": "red",
    "skip": "yellow",
    "unanswered": "yellow",
    "interrupted": "yellow",
}


@click.group(cls=CommandGroup)
def check() -> None:
    """Checklists: automatic probes and manual confirmations, against the deadline."""


@check.command("run")
@click.argument("checklists", nargs=-1)
@exam_option()
@click.option(
    "--confirm", "confirms", multiple=True, metavar="ID[=COMMENT]", help="Confirm a manual item."
)
@click.option(
    "--answers",
    "answers_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML file of manual answers.",
)
@click.option(
    "--no-input", is_flag=True, help="Never prompt; unanswered manual items stay unanswered."
)
@lang_option("Language of titles")
@click.option(
    "--junit",
    "junit_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write JUnit XML here.",
)
@wait_option("check run")
@click.option("--verbose", "-v", is_flag=True, help="Also print every item's result in a table.")
@json_option
@pass_app
def run(
    app: App,
    *,
    checklists,
    exam_id,
    confirms,
    answers_file,
    no_input,
    lang,
    junit_file,
    wait,
    verbose,
    as_json,
) -> None:
    """Run CHECKLISTS (default: pre-exam) and store the results.

    Prints the items to fix and a verdict (every item with --verbose). Exit code 0 when every
    critical item passed, 1 when one did not.
    """

    site = app.site
    lang = lang or current_language()  # --lang, else $PPE_LANG, else the point's
    technician = site.config.staff["technician"].name
    by = f"{technician} ({getpass.getuser()})"
    loaded = [load_checklist(name, site) for name in (checklists or ("pre-exam",))]
    exam = app.exam(exam_id, check=True)  # named once the input is known good
    interactive = not no_input and sys.stdin.isatty() and not as_json
    with transaction(app.db):  # the store first: damaged, locked or read-only fails before probes
        pass
    with run_lock(site.folder, "check", what=_("check"), wait=wait, tz=site.tz):
        runs, worst = _run_all(
            app,
            loaded,
            exam=exam,
            answers_file=answers_file,
            confirms=confirms,
            by=by,
            lang=lang,
            interactive=interactive,
            junit_file=junit_file,
        )
    if as_json:
        print_json({"runs": [stored.to_json() for stored in runs]})
    else:
        for stored in runs:
            _print_run(stored, lang, site.tz, verbose=verbose)
    if worst:
        raise SystemExit(int(worst))


def _run_all(app, loaded, *, exam, answers_file, confirms, by, lang, interactive, junit_file):
    """Run and store each checklist; (stored runs, worst exit code)."""
    site = app.site
    worst = ExitCode.OK
    runs = []
    for checklist in loaded:
        answers = load_answers(answers_file, by) if answers_file else {}
        answers.update(parse_confirm(confirms, by))
        check_known(answers, checklist, _("answers"))
        recovery, record = _recovery(site, checklist, exam)
        ask = manual_prompt(lang, by) if interactive else None
        result = _run_with_progress(checklist, site, exam, answers, ask=ask, record=record)
        run_id = _store(app, result, recovery)
        stored = load_run(app.db, run_id)
        runs.append(stored)
        if result.interrupted:
            click.echo(
                _("interrupted: what was done is stored as run {run}").format(run=run_id), err=True
            )
            raise SystemExit(interrupts.exit_code())
        if junit_file:
            write_junit(
                stored,
                junit_file
                if len(loaded) == 1
                else junit_file.with_stem(f"{junit_file.stem}-{checklist.name}"),
            )
        if not result.passed:
            worst = ExitCode.FAILED
    return runs, worst


def _recovery(site, checklist, exam):
    """The run's recovery file, and the callback that appends each result to it."""
    now = utc_now()
    header = {
        "checklist": checklist.name,
        "title_ru": site.redact(checklist.title.ru),
        "title_en": site.redact(checklist.title.en),
        "exam_id": exam.id if exam else None,
        "started_at": iso(now),
        "operator": getpass.getuser(),
        "disabled_items": "[]",
    }
    recovery = RecoveryFile(site.folder, checklist.name, now.strftime("%Y%m%dT%H%M%SZ"), header)
    positions = {item.id: index for index, item in enumerate(checklist.items)}
    return recovery, lambda r: recovery.add(result_row(positions[r.item.id], r))


def _store(app, result, recovery) -> int:
    """Store the run; when the store cannot take it, keep it in the recovery file and say so."""
    rows = [result_row(position, r) for position, r in enumerate(result.results)]
    try:
        run_id = save_rows(app.db, run_row(result), rows)
    except (sqlite3.Error, PpeError) as exc:
        failure = store_error(exc) if isinstance(exc, sqlite3.Error) else exc
        if not recovery.finish(run_row(result), rows):
            failure.message += "; " + _(
                "the recovery file could not be written either ({why})"
            ).format(why=recovery.failed)
            print_json({"run": run_row(result), "results": rows})  # the last place left: stdout
            raise failure from None
        failure.message += "; " + _(
            "the run is kept in {path}: store it later with: ppe-tech check import {path}"
        ).format(path=recovery.path)
        raise failure from None
    recovery.remove()
    return run_id


def _run_with_progress(checklist, site, exam, answers, *, ask, record):
    """Run the checklist; a progress bar of its probes when a person watches and nothing is
    left to ask (every item asked by hand is answered by --confirm or --answers)."""
    items = [i for i in checklist.items if i.id not in set(site.config.checks.disabled)]
    pending = {i.id: i for i in items if not asked_by_hand(i)}
    asks = ask is not None and any(asked_by_hand(i) and i.id not in answers for i in items)
    if asks or not progress_enabled() or not pending:
        return run_checklist(checklist, site, exam, answers, ask=ask, on_result=record)

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=16),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        _Waiting(pending, time.monotonic()),
        transient=True,
        console=stderr_console(),
    ) as progress:
        task = progress.add_task(checklist.name, total=len(pending))

        def advance(result) -> None:
            record(result)
            if pending.pop(result.item.id, None) is not None:
                progress.advance(task)

        return run_checklist(checklist, site, exam, answers, on_result=advance)


class _Waiting(ProgressColumn):
    """What the bar waits for: the probe still running that may take longest, and how long
    it may still take (``waiting: station-clock (up to 8 s)``, ``... and 2 more``)."""

    def __init__(self, pending: dict, began: float):
        super().__init__(table_column=Column(no_wrap=True))
        self.pending, self.began = pending, began

    def render(self, task) -> RichText:
        items = list(self.pending.values())  # a copy: probes finish in other threads
        if not items:
            return RichText("")
        bound = {i.id: i.timeout * (i.retries + 1) for i in items}
        slowest = max(items, key=lambda i: bound[i.id])
        left = max(1.0, bound[slowest.id] - (time.monotonic() - self.began))
        text = _("waiting: {item} (up to {time})").format(
            item=slowest.id, time=human_duration(math.ceil(left))
        )
        if len(items) > 1:
            text += " " + ngettext("and {n} more", "and {n} more", len(items) - 1).format(
                n=len(items) - 1
            )
        return RichText(text, style="progress.description")


def _when(timestamp: str | None, tz) -> str:
    """A stored time as the point's local ``02.12 10:09`` (the year only when not this one)."""
    if not timestamp:
        return "-"
    moment = datetime.fromisoformat(timestamp).astimezone(tz)
    same_year = moment.year == datetime.now(tz).year
    return moment.strftime("%d.%m %H:%M" if same_year else "%d.%m.%Y %H:%M")


def _zone(tz) -> str:
    """The zone's abbreviation as a clock shows it (MSK), for times printed in it."""
    return datetime.now(tz).strftime("%Z")


SEVERITY_STYLE = {"critical": "red", "warning": "yellow"}


def _found(r: StoredResult) -> str:
    """What was found, in a line: the status when it is not a plain fail, the probe's message
    and value (what was expected when there is no message), a manual answer, the comment."""
    said = r.status == FAIL or (r.status == TIMEOUT and r.message)  # the message says it
    parts = [] if said else [status_label(r.status)]
    if r.message and not (r.kind == "manual" and r.status == UNANSWERED):
        parts.append(r.message)
    if r.kind == "manual":
        if r.value:
            parts.append(_("answer: {answer}").format(answer=r.value))
    elif r.value and r.expected and not r.message:
        parts.append(_("{value}, expected {expected}").format(value=r.value, expected=r.expected))
    elif r.value and r.value not in (r.message or ""):
        parts.append(r.value)
    if r.comment:
        parts.append(r.comment)
    return "; ".join(parts)


def _to_fix(run: StoredRun) -> list[StoredResult]:
    """Every item not passed, the critical ones first."""
    results = [r for r in run.results or [] if r.status != PASS]
    return sorted(results, key=lambda r: (r.severity != "critical", r.position))


def _print_run(run: StoredRun, lang: str, tz, *, verbose: bool) -> None:
    """The items to fix, one line each, and a one-line verdict; with ``verbose`` every item in
    a table after them. Times in the point's local time zone."""
    console = stdout_console()
    title = run.title_ru if lang == "ru" else run.title_en
    header = _("Run {run}: {title} ({checklist})").format(
        run=run.run_id, title=safe(title), checklist=safe(run.checklist)
    )
    exam = _("exam {exam}").format(exam=safe(run.exam_id)) if run.exam_id else _("no exam selected")
    finished = _("finished {time}").format(time=f"{_when(run.finished_at, tz)} {_zone(tz)}")
    console.print(f"[bold]{header}[/] · {exam} · {finished}")
    fix = _to_fix(run)
    if fix:
        console.print(ngettext("Fix this {n}:", "Fix these {n}:", len(fix)).format(n=len(fix)))
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True, min_width=max(len(r.item_id) for r in fix))
        grid.add_column()
        for r in fix:
            item_title = r.title_ru if lang == "ru" else r.title_en
            if r.severity != "critical":
                item_title += f" ({severity_label(r.severity)})"
            style = SEVERITY_STYLE.get(r.severity, "none")
            grid.add_row(f"[{style}]{safe(r.item_id)}[/]", f"{safe(item_title)}: {safe(_found(r))}")
        console.print(Padding(grid, (0, 0, 0, 2)))
    verdict_style = "green" if run.status == "passed" else "red"
    timeliness = timeliness_label(run.late_minutes)
    if run.deadline:
        deadline = f"{_when(run.deadline, tz)} {_zone(tz)}"
        timeliness += " " + _("(deadline {time})").format(time=deadline)
    passed = _("{passed} of {total} passed").format(
        passed=run.counts.get(PASS, 0), total=sum(run.counts.values())
    )
    console.print(
        f"[bold {verdict_style}]{verdict_label(run.status)}[/]: {passed} · [bold]{safe(timeliness)}[/]"
    )
    if verbose:
        console.print(_results_table(run, lang))


def _results_table(run: StoredRun, lang: str) -> Table:
    """Every item: id and title (the id never cut), status and severity, what was found."""
    results = run.results or []
    table = Table(show_lines=False)
    table.add_column(_("item"), min_width=max((len(r.item_id) for r in results), default=4))
    table.add_column(_("status"), no_wrap=True)
    table.add_column(_("result"))
    section = None
    for r in results:
        name = r.section_ru if lang == "ru" else r.section_en
        if name != section:
            if section is not None:
                table.add_section()
            table.add_row(f"[bold italic]{safe(name)}[/]", "", "")
            section = name
        lines = [r.value or ""]
        if r.expected:
            lines.append(_("expected: {expected}").format(expected=r.expected))
        lines += [r.message or "", r.comment or ""]
        style = STATUS_STYLE.get(r.status, "none")
        table.add_row(
            f"[bold]{safe(r.item_id)}[/]\n{safe(r.title_ru if lang == 'ru' else r.title_en)}",
            f"[{style}]{safe(status_label(r.status))}[/]\n[dim]{safe(severity_label(r.severity))}[/]",
            safe("\n".join(line for line in lines if line)),
        )
    return table


@check.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def import_(app: App, file: Path) -> None:
    """Store a run kept in a recovery file (when the store could not take it)."""
    run_id = import_recovery(app.db, file)
    click.echo(_("stored as run {run} (ppe-tech check show {run})").format(run=run_id))


@check.command("list")
@exam_option("every exam")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Show the newest N runs.",
)
@json_option
@pass_app
def list_(app: App, exam_id: str | None, limit: int, as_json: bool) -> None:
    """List the stored checklist runs (the newest, oldest first)."""
    runs = list_runs(app.db, exam_id=exam_id, limit=limit)
    if as_json:
        print_json({"runs": [run.to_json() for run in runs]})
        return
    tz = app.site.tz
    # ids and times are never cut or folded: the verdict, in words, takes what width is left
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    table.add_column(_("run"), no_wrap=True, justify="right")
    table.add_column(_("checklist"), no_wrap=True)
    table.add_column(_("exam"), no_wrap=True)
    finished = _("finished")
    table.add_column(f"{finished}\n({_zone(tz)})", no_wrap=True)
    table.add_column(_("result"))
    for run in runs:
        result = _("{status}, {timeliness}; {counts}").format(
            status=run_status_label(run.status),
            timeliness=timeliness_label(run.late_minutes),
            counts=counts_label(run.counts),
        )
        cells = (str(run.run_id), run.checklist, run.exam_id or "-", _when(run.finished_at, tz))
        table.add_row(*map(safe, cells), safe(result))
    stdout_console().print(table)


@check.command("show")
@click.argument("run_ref", default="latest", metavar="RUN")
@lang_option("Language of titles")
@json_option
@pass_app
def show(app: App, run_ref: str, lang: str | None, as_json: bool) -> None:
    """Show one stored run (a run number, or latest)."""
    run = load_run(app.db, run_ref)
    if as_json:
        print_json(run.to_json())
    else:
        _print_run(run, lang or current_language(), app.site.tz, verbose=True)
