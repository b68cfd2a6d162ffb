"""``ppe-tech check``: run checklists, list and show the stored runs."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from ppe_tech.cli.common import (
    App,
    json_option,
    lang_option,
    pass_app,
    print_json,
    progress_enabled,
    stdout_console,
)
from ppe_tech.errors import ExitCode
from ppe_tech.i18n import _

STATUS_STYLE = {
    "pass": "green", "fail": "red", "timeout": "red", "error": "red",
    "skip": "yellow", "unanswered": "yellow", "interrupted": "yellow",
}  # fmt: skip


@click.group()
def check() -> None:
    """Checklists: automatic probes and manual confirmations, against the deadline."""


def _ask(lang: str, by: str):
    from ppe_tech.checklist.answers import answer_status
    from ppe_tech.checklist.runner import Answer

    def ask(item) -> Answer | None:
        try:
            return _ask_once(item)
        except click.Abort:  # Ctrl-C at a prompt: the runner keeps what is done
            raise KeyboardInterrupt from None

    def _ask_once(item) -> Answer | None:
        question = item.manual.get(lang)
        click.echo(f"\n[{item.id}] {item.title.get(lang)}", err=True)
        choices = _("yes/no/skip")
        word = click.prompt(f"{question} [{choices}]", err=True, default="", show_default=False)
        status = answer_status(word)
        while status is None and word:
            word = click.prompt(
                _("answer yes, no or skip"), err=True, default="", show_default=False
            )
            status = answer_status(word)
        if status is None:
            return None
        comment = click.prompt(
            _("comment (Enter for none)"), err=True, default="", show_default=False
        )
        return Answer(status, comment or None, by)

    return ask


@check.command("run")
@click.argument("checklists", nargs=-1)
@click.option("--exam", "exam_id", help="Exam id from ppe.yaml (default: today's exam).")
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
@json_option
@pass_app
def run(
    app: App, checklists, exam_id, confirms, answers_file, no_input, lang, junit_file, as_json
) -> None:
    """Run CHECKLISTS (default: pre-exam) and store the results.

    Exit code 0 when every critical item passed, 1 when one did not.
    """
    import sys

    from ppe_tech.checklist.answers import check_known, load_answers, parse_confirm
    from ppe_tech.checklist.model import load_checklist
    from ppe_tech.checklist.results import load_run, save_run, write_junit
    from ppe_tech.checklist.runner import run_checklist
    from ppe_tech.timeutil import utc_now

    site = app.site
    lang = lang or site.config.point.language
    technician = site.config.staff["technician"].name
    by = f"{technician} ({getpass.getuser()})"
    exam = site.select_exam(exam_id, utc_now())
    loaded = [load_checklist(name, site) for name in (checklists or ("pre-exam",))]
    interactive = not no_input and sys.stdin.isatty() and not as_json
    worst = ExitCode.OK
    runs = []
    for checklist in loaded:
        answers = load_answers(answers_file, by) if answers_file else {}
        answers.update(parse_confirm(confirms, by))
        check_known(answers, checklist, "answers")
        result = _run_with_progress(
            checklist, site, exam, answers, _ask(lang, by) if interactive else None, run_checklist
        )
        run_id = save_run(app.db, result)
        stored = load_run(app.db, run_id)
        runs.append(stored)
        if result.interrupted:
            click.echo(f"interrupted: what was done is stored as run {run_id}", err=True)
            raise SystemExit(int(ExitCode.INTERRUPTED))
        if junit_file:
            write_junit(
                stored,
                junit_file
                if len(loaded) == 1
                else junit_file.with_stem(f"{junit_file.stem}-{checklist.name}"),
            )
        if not result.passed:
            worst = ExitCode.FAILED
    if as_json:
        print_json({"runs": runs})
    else:
        for stored in runs:
            _print_run(stored, lang, site.tz)
    if worst:
        raise SystemExit(int(worst))


def _run_with_progress(checklist, site, exam, answers, ask, run_checklist):
    automatic = sum(1 for i in checklist.items if i.probe is not None)
    if ask is not None or not progress_enabled() or not automatic:
        return run_checklist(checklist, site, exam, answers, ask=ask)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        transient=True,
    ) as progress:  # fmt: skip
        task = progress.add_task(checklist.name, total=automatic)

        def advance(result) -> None:
            if result.item.probe is not None:
                progress.advance(task)

        return run_checklist(checklist, site, exam, answers, on_result=advance)


def _local(timestamp: str | None, tz) -> str:
    from datetime import datetime

    return (
        datetime.fromisoformat(timestamp).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        if timestamp
        else "-"
    )


def _print_run(run: dict, lang: str, tz) -> None:
    """The run as a table, times in the point's local time zone."""
    from rich.table import Table

    console = stdout_console()
    title = run["title_ru"] if lang == "ru" else run["title_en"]
    table = Table(title=f"Run {run['id']}: {title} ({run['checklist']})", title_justify="left")
    for column in ("section", "item", "severity", "status", "value", "expected", "message", "ms"):
        table.add_column(column, overflow="fold")
    section = None
    for r in run["results"]:
        name = r["section_ru"] if lang == "ru" else r["section_en"]
        style = STATUS_STYLE.get(r["status"], "")
        message = r["message"] or ""
        if r["comment"]:
            message = f"{message} {r['comment']}".strip()
        table.add_row(
            name if name != section else "",
            f"{r['item_id']}\n{r['title_ru'] if lang == 'ru' else r['title_en']}",
            r["severity"],
            f"[{style}]{r['status']}[/]",
            r["value"] or "",
            r["expected"] or "",
            message,
            str(r["duration_ms"] or ""),
        )
        section = name
    console.print(table)
    counts = ", ".join(f"{n} {s}" for s, n in sorted(run["counts"].items()))
    exam = run["exam_id"] or "no exam"
    verdict = "[green]PASSED[/]" if run["status"] == "passed" else "[red]FAILED[/]"
    console.print(
        f"{verdict}  {counts}  |  exam {exam}, deadline {_local(run['deadline'], tz)}, "
        f"finished {_local(run['finished_at'], tz)} ({tz.key}): [bold]{run['timeliness']}[/]"
    )


@check.command("list")
@click.option("--exam", "exam_id", help="Only runs of this exam.")
@json_option
@pass_app
def list_(app: App, exam_id: str | None, as_json: bool) -> None:
    """List the stored checklist runs."""
    from rich.table import Table

    from ppe_tech.checklist.results import list_runs

    runs = list_runs(app.db, exam_id)
    if as_json:
        print_json({"runs": runs})
        return
    table = Table()
    for column in ("run", "checklist", "exam", "finished", "status", "timeliness", "results"):
        table.add_column(column)
    for run in runs:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(run["counts"].items()))
        table.add_row(str(run["id"]), run["checklist"], run["exam_id"] or "-", run["finished_at"],
                      run["status"], run["timeliness"], counts)  # fmt: skip
    stdout_console().print(table)


@check.command("show")
@click.argument("run_ref", default="latest", metavar="RUN")
@lang_option("Language of titles")
@json_option
@pass_app
def show(app: App, run_ref: str, lang: str | None, as_json: bool) -> None:
    """Show one stored run (a run number, or latest)."""
    from ppe_tech.checklist.results import load_run

    run = load_run(app.db, run_ref)
    if as_json:
        print_json(run)
    else:
        _print_run(run, lang or app.site.config.point.language, app.site.tz)
