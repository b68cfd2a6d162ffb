"""``ppe-tech check``: run checklists, list and show the stored runs."""

from __future__ import annotations

import getpass
import sqlite3
import sys
from datetime import datetime
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ppe_tech import interrupts
from ppe_tech.checklist.answers import check_known, load_answers, parse_confirm
from ppe_tech.checklist.model import load_checklist
from ppe_tech.checklist.recovery import RecoveryFile, import_recovery
from ppe_tech.checklist.results import (
    StoredRun,
    list_runs,
    load_run,
    result_row,
    run_row,
    save_rows,
    write_junit,
)
from ppe_tech.checklist.runner import run_checklist
from ppe_tech.cli.common import (
    App,
    exam_option,
    json_option,
    lang_option,
    manual_prompt,
    pass_app,
    print_json,
    progress_enabled,
    safe,
    stdout_console,
    wait_option,
)
from ppe_tech.errors import ExitCode, PpeError
from ppe_tech.runlock import run_lock
from ppe_tech.store import store_error, transaction
from ppe_tech.timeutil import iso, utc_now

STATUS_STYLE = {
    "pass": "green",
    "fail": "red",
    "timeout": "red",
    "error": "red",
    "skip": "yellow",
    "unanswered": "yellow",
    "interrupted": "yellow",
}


@click.group()
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
    as_json,
) -> None:
    """Run CHECKLISTS (default: pre-exam) and store the results.

    Exit code 0 when every critical item passed, 1 when one did not.
    """

    site = app.site
    lang = lang or site.config.point.language
    technician = site.config.staff["technician"].name
    by = f"{technician} ({getpass.getuser()})"
    exam = app.exam(exam_id, check=True)
    loaded = [load_checklist(name, site) for name in (checklists or ("pre-exam",))]
    interactive = not no_input and sys.stdin.isatty() and not as_json
    with transaction(app.db):  # the store first: damaged, locked or read-only fails before probes
        pass
    with run_lock(site.folder, "check", what="check", wait=wait, tz=site.tz):
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
            _print_run(stored, lang, site.tz)
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
        check_known(answers, checklist, "answers")
        recovery, record = _recovery(site, checklist, exam)
        ask = manual_prompt(lang, by) if interactive else None
        result = _run_with_progress(checklist, site, exam, answers, ask=ask, record=record)
        run_id = _store(app, result, recovery)
        stored = load_run(app.db, run_id)
        runs.append(stored)
        if result.interrupted:
            click.echo(f"interrupted: what was done is stored as run {run_id}", err=True)
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
            failure.message += (
                f"; the recovery file could not be written either ({recovery.failed})"
            )
            print_json({"run": run_row(result), "results": rows})  # the last place left: stdout
            raise failure from None
        failure.message += (
            f"; the run is kept in {recovery.path}: store it later with: "
            f"ppe-tech check import {recovery.path}"
        )
        raise failure from None
    recovery.remove()
    return run_id


def _run_with_progress(checklist, site, exam, answers, *, ask, record):
    """Run the checklist; a progress bar of its probes when a person watches and nobody is asked."""
    automatic = sum(1 for i in checklist.items if i.probe is not None)
    if ask is not None or not progress_enabled() or not automatic:
        return run_checklist(checklist, site, exam, answers, ask=ask, on_result=record)

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    ) as progress:
        task = progress.add_task(checklist.name, total=automatic)

        def advance(result) -> None:
            record(result)
            if result.item.probe is not None:
                progress.advance(task)

        return run_checklist(checklist, site, exam, answers, on_result=advance)


def _local(timestamp: str | None, tz) -> str:
    return (
        datetime.fromisoformat(timestamp).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        if timestamp
        else "-"
    )


def _print_run(run: StoredRun, lang: str, tz) -> None:
    """The run as a table, times in the point's local time zone."""
    console = stdout_console()
    title = run.title_ru if lang == "ru" else run.title_en
    table = Table(
        title=f"Run {run.run_id}: {safe(title)} ({safe(run.checklist)})", title_justify="left"
    )
    for column in ("section", "item", "severity", "status", "value", "expected", "message", "ms"):
        table.add_column(column, overflow="fold")
    section = None
    for r in run.results or []:
        name = r.section_ru if lang == "ru" else r.section_en
        style = STATUS_STYLE.get(r.status, "")
        message = f"{r.message or ''} {r.comment or ''}".strip()
        table.add_row(
            safe(name if name != section else ""),
            safe(f"{r.item_id}\n{r.title_ru if lang == 'ru' else r.title_en}"),
            safe(r.severity),
            f"[{style}]{safe(r.status)}[/]",
            safe(r.value),
            safe(r.expected),
            safe(message),
            str(r.duration_ms or ""),
        )
        section = name
    console.print(table)
    counts = ", ".join(f"{n} {s}" for s, n in sorted(run.counts.items()))
    exam = run.exam_id or "no exam"
    verdict = "[green]PASSED[/]" if run.status == "passed" else "[red]FAILED[/]"
    console.print(
        f"{verdict}  {safe(counts)}  |  exam {safe(exam)}, deadline {_local(run.deadline, tz)}, "
        f"finished {_local(run.finished_at, tz)} ({tz.key}): [bold]{run.timeliness}[/]"
    )


@check.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def import_(app: App, file: Path) -> None:
    """Store a run kept in a recovery file (when the store could not take it)."""
    run_id = import_recovery(app.db, file)
    click.echo(f"stored as run {run_id} (ppe-tech check show {run_id})")


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
    table = Table()
    for column in ("run", "checklist", "exam", "finished", "status", "timeliness", "results"):
        table.add_column(column)
    for run in runs:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(run.counts.items()))
        cells = (
            str(run.run_id),
            run.checklist,
            run.exam_id or "-",
            run.finished_at or "-",
            run.status,
            run.timeliness,
            counts,
        )
        table.add_row(*map(safe, cells))
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
        _print_run(run, lang or app.site.config.point.language, app.site.tz)
