"""``ppe-tech pak``: The video access (PAK) log: append, checkpoint, verify, audit."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import click
from rich.table import Table

from ppe_tech.cli.common import (
    App,
    CommandGroup,
    DurationType,
    json_option,
    lang_option,
    pass_app,
    print_json,
    safe,
    stdout_console,
)
from ppe_tech.errors import ConfigError, ExitCode
from ppe_tech.fsutil import atomic_write_text, read_regular, storage_error
from ppe_tech.i18n import _, current_language, ngettext
from ppe_tech.pak.audit import audit, worst
from ppe_tech.pak.chain import create_checkpoint, verify_log
from ppe_tech.pak.export import export
from ppe_tech.pak.journal import (
    ACTIONS,
    action_from_words,
    action_label,
    end_action,
    list_entries,
    parse_when,
    record_action,
    start_action,
)

CHECKPOINT_LIMIT = 64 * 1024  # a checkpoint is a few hundred bytes
SEVERITY_STYLE = {"high": "red", "medium": "yellow", "low": "cyan"}


@click.group(cls=CommandGroup)
def pak() -> None:
    """The video access (PAK) log: append, checkpoint, verify, audit.

    Exit codes: 0 ok, 1 verification failed or high-severity audit findings,
    2 bad input (nothing written), 3 store error, 5 key problem.
    """


def _console():
    """Human output; when it goes to a file or a pipe, lines are not folded at 80 columns."""
    console = stdout_console()
    if not console.is_terminal:
        console.soft_wrap = True
        console.width = max(console.width, 200)
    return console


def _ask_action(lang: str) -> str:
    """The official actions as a numbered list in the point's language; a number or words."""
    for number, (ru, en) in enumerate(ACTIONS.values(), start=1):
        click.echo(f"  {number}. {ru if lang == 'ru' else en}", err=True)
    while True:
        code = action_from_words(click.prompt(_("action (number or name)"), err=True))
        if code is not None:
            return code
        click.echo(
            _("choose a number from 1 to {n}, or an action's name").format(n=len(ACTIONS)), err=True
        )


def _interactive(no_input: bool, as_json: bool) -> bool:
    return not no_input and not as_json and sys.stdin.isatty()


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            _("--date {value} is not a date (use YYYY-MM-DD)").format(value=repr(value))
        ) from None


def _entry_options(func):
    for option in reversed(
        [
            click.option(
                "--action", "-a", help="Action: code, number or name (see: ppe-tech pak actions)."
            ),
            click.option(
                "--room", "-r", "rooms", help='Room(s), e.g. "Auditorium 0001, Staff room".'
            ),
            click.option(
                "--date", "day", metavar="YYYY-MM-DD", help="Day of HH:MM times (default: today)."
            ),
            click.option(
                "--start",
                "-s",
                metavar="TIME",
                help="HH:MM, 'YYYY-MM-DD HH:MM' or ISO (default: now).",
            ),
            click.option(
                "--by",
                "performed_by",
                default=None,
                help='Staff role or "Name, position" (default: technician).',
            ),
            click.option(
                "--responsible",
                default=None,
                help='Staff role or "Name, position" (default: head).',
            ),
            click.option("--note", "-n", default=None, help="Note (required for action 'other')."),
            click.option("--no-input", is_flag=True, help="Never prompt for missing values."),
            json_option,
        ]
    ):
        func = option(func)
    return func


@dataclass(kw_only=True)
class _Given:
    """What the user gave for an entry; None where nothing was given (asked when interactive)."""

    action: str | None
    rooms: str | None
    start: str | None
    performed_by: str | None
    responsible: str | None
    note: str | None


def _ask_missing(site, given: _Given) -> None:
    lang = site.config.point.language
    if not given.action:
        given.action = _ask_action(lang)
    if not given.rooms:
        given.rooms = click.prompt(_("room(s)"), err=True)
    if not given.start:
        given.start = click.prompt(
            _("start (HH:MM, Enter for now)"), default="now", show_default=False, err=True
        )
    roles = ", ".join(site.config.staff)
    if given.performed_by is None:
        given.performed_by = click.prompt(
            _("performed by ({roles}, or 'Name, position')").format(roles=roles),
            default="technician",
            err=True,
        )
    if given.responsible is None:
        given.responsible = click.prompt(
            _("responsible ({roles}, or 'Name, position')").format(roles=roles),
            default="head",
            err=True,
        )
    if given.note is None:
        given.note = click.prompt(_("note"), default="", show_default=False, err=True)


def _gather(app: App, given: _Given, *, interactive: bool) -> dict:
    """The keyword arguments of an entry: what was given, asked for or defaulted."""
    if interactive:
        _ask_missing(app.site, given)
    if not given.action:
        raise ConfigError(_("--action is required (see: ppe-tech pak actions)"))
    if not given.rooms:
        raise ConfigError(_("--room is required"))
    return {
        # "4" or the words work as well as the code
        "action": action_from_words(given.action) or given.action,
        "rooms": given.rooms,
        "performed_by": given.performed_by or "technician",
        "responsible": given.responsible or "head",
        "note": given.note or "",
    }


def _when(site, text: str | None, day: date | None):
    if not text or text == "now":
        moment = datetime.now(site.tz).replace(second=0, microsecond=0)
        return (
            moment if day is None else moment.replace(year=day.year, month=day.month, day=day.day)
        )
    return parse_when(site, text, day)


def _print_entry(entry: dict, as_json: bool, verb: str) -> None:
    """``verb`` says what was done ("added #{n}"; ``{n}`` is the entry's number)."""
    if as_json:
        print_json(entry)
        return
    when = datetime.fromisoformat(entry["start_at"] if entry["kind"] != "end" else entry["end_at"])
    click.echo(
        _("{done}: {action} in {rooms} at {when} (hash {hash})").format(
            done=verb.format(n=entry["seq"], start=entry.get("end_of")),
            action=action_label(entry["action"], current_language()),
            rooms=entry["rooms"],
            when=f"{when:%Y-%m-%d %H:%M}",
            hash=entry["hash"][:16],
        )
    )


@pak.command("add")
@_entry_options
@click.option("--end", "-e", metavar="TIME", help="End time (HH:MM or ISO); omit for a moment.")
@pass_app
def add(app: App, *, day, no_input, as_json, end, **given) -> None:
    """Append one entry (prompts for what is missing when interactive)."""
    site = app.site
    d = _day(day)
    given = _Given(**given)
    fields = _gather(app, given, interactive=_interactive(no_input, as_json))
    start, end = _when(site, given.start, d), _when(site, end, d) if end else None
    entry = record_action(site, app.db, start=start, end=end, **fields)
    _print_entry(entry, as_json, _("added #{n}"))


@pak.command("start")
@_entry_options
@pass_app
def start_(app: App, *, day, no_input, as_json, **given) -> None:
    """Append the start of an action that spans time; close it with `pak end`."""
    site = app.site
    given = _Given(**given)
    fields = _gather(app, given, interactive=_interactive(no_input, as_json))
    start = _when(site, given.start, _day(day))
    entry = start_action(site, app.db, start=start, **fields)
    _print_entry(entry, as_json, _("started #{n}"))


@pak.command("end")
@click.argument("start_seq", type=int, required=False, metavar="[START_NO]")
@click.option("--at", "at", metavar="TIME", help="End time (default: now).")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="Day of an HH:MM time (default: today).")
@click.option("--by", "performed_by", default=None, help="Who ended it (default: who started it).")
@click.option("--note", "-n", default="", help="Note.")
@json_option
@pass_app
def end_(app: App, *, start_seq, at, day, performed_by, note, as_json) -> None:
    """Append the end of the action started by entry START_NO (default: the only open one)."""
    site = app.site
    entry = end_action(
        site,
        app.db,
        start_seq=start_seq,
        end=_when(site, at, _day(day)),
        performed_by=performed_by,
        note=note,
    )
    _print_entry(entry, as_json, _("ended #{start} with #{n}"))


@pak.command("actions")
@json_option
def actions(as_json: bool) -> None:
    """List the action codes with their Russian and English labels."""
    if as_json:
        print_json([{"code": c, "ru": ru, "en": en} for c, (ru, en) in ACTIONS.items()])
        return
    if current_language() == "ru":  # what --action takes in Russian: the number or the words
        for number, (ru, _en) in enumerate(ACTIONS.values(), start=1):
            click.echo(f"{number}. {ru}")
        return
    for code, (ru, en) in ACTIONS.items():
        click.echo(f"{code:<18} {ru} / {en}")


def _filter_options(func):
    for option in reversed(
        [
            click.option(
                "--from", "date_from", metavar="YYYY-MM-DD", help="From this day (inclusive)."
            ),
            click.option(
                "--to", "date_to", metavar="YYYY-MM-DD", help="Up to this day (inclusive)."
            ),
            click.option("--room", help="Rooms containing this text."),
            click.option("--action", help="Only this action code."),
            click.option(
                "--person", help="Performed by or responsible containing this text (or a role)."
            ),
        ]
    ):
        func = option(func)
    return func


@pak.command("list")
@_filter_options
@lang_option("Language of labels")
@json_option
@pass_app
def list_(app: App, *, date_from, date_to, room, action, person, lang, as_json) -> None:
    """List the journal, one row per action (a start and its end merged)."""
    rows = list_entries(
        app.db, date_from=date_from, date_to=date_to, room=room, action=action, person=person
    )
    if as_json:
        print_json({"entries": rows})
        return
    lang = lang or current_language()
    title = ngettext("PAK log: {n} entry", "PAK log: {n} entries", len(rows))
    table = Table(title=title.format(n=len(rows)), title_justify="left")
    for column in (
        _("No."),
        _("date"),
        _("room(s)"),
        _("time"),
        _("action"),
        _("performed by"),
        _("responsible"),
        _("note"),
    ):
        table.add_column(column, overflow="fold")
    for row in rows:
        end = row["end"] or ("…" if row["open"] else "")
        time_text = f"{row['start']}-{end}" if end else row["start"]
        cells = (
            str(row["no"]),
            row["date"],
            row["rooms"],
            time_text,
            row["action_ru"] if lang == "ru" else row["action_en"],
            row["performed_by"],
            row["responsible"],
            row["note"],
        )
        table.add_row(*map(safe, cells))
    _console().print(table)


@pak.command("export")
@click.option("--csv", "fmt", flag_value="csv", help="CSV with the journal's columns.")
@click.option(
    "--json", "fmt", flag_value="json", help="JSON with every field and the latest checkpoint."
)
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here (atomically); default stdout.",
)
@lang_option("CSV header language")
@_filter_options
@pass_app
def export_(app: App, *, fmt, out, lang, date_from, date_to, room, action, person) -> None:
    """Export the journal as CSV or JSON, to a file or stdout."""
    if fmt is None:
        raise ConfigError(_("say --csv or --json"))
    text = export(
        app.site,
        app.db,
        fmt,
        lang or app.site.config.point.language,
        date_from=date_from,
        date_to=date_to,
        room=room,
        action=action,
        person=person,
    )
    if out is None:
        click.echo(text, nl=False)
    else:
        atomic_write_text(out, text)
        click.echo(_("wrote {file}").format(file=out), err=True)


@pak.command("checkpoint")
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the checkpoint to this file.",
)
@json_option
@pass_app
def checkpoint(app: App, out: Path | None, as_json: bool) -> None:
    """Sign (log id, size, head hash, time) with the site key; store it, print it.

    Refuses (exit 1) when the chain does not verify. Keep copies outside the
    site (a USB stick, a printed report): they are what catches a rewritten log.
    """

    cp = create_checkpoint(app.site, app.db)
    if out is not None:
        atomic_write_text(out, cp.text)
    if as_json:
        print_json({**cp.to_json(), "file": str(out) if out else None})
        return
    click.echo(cp.text, nl=False)
    if out is not None:
        click.echo(_("wrote {file}").format(file=out), err=True)


@pak.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A checkpoint file to check against (repeatable).",
)
@json_option
@pass_app
def verify(app: App, checkpoint_files: tuple[Path, ...], as_json: bool) -> None:
    """Recompute the hash chain and check it against every checkpoint (files and stored).

    Exit 0 when intact, 1 naming the first bad entry when not.
    """
    texts = []
    for path in checkpoint_files:
        try:  # bytes that are not UTF-8 cannot carry a valid signature: verify says FAIL
            data = read_regular(path, limit=CHECKPOINT_LIMIT)
            texts.append((str(path), data.decode("utf-8", errors="replace")))
        except FileNotFoundError:
            raise ConfigError(_("--checkpoint {file}: no such file").format(file=path)) from None
        except OSError as exc:
            raise storage_error(exc, _("cannot read"), path) from None
    result = verify_log(app.site, app.db, checkpoints=texts)
    if as_json:
        print_json(result.to_json())
    else:
        console = _console()
        for check in result.checkpoint_checks:
            mark = "[green]{}[/]".format(_("ok")) if check.ok else "[red]{}[/]".format(_("FAIL"))
            console.print(f"{mark}  {safe(check.message)}", markup=True)
        if result.ok:
            took = _("{seconds} s").format(seconds=f"{result.seconds:.2f}")
            console.print(f"[green]{safe(result.message)}[/] ({took})")
        else:
            if result.first_bad is not None:
                tampered = _("TAMPERED: first bad entry #{n}").format(n=result.first_bad)
                console.print(f"[red]{tampered}[/]")
            elif result.bad_range:
                low, high = result.bad_range
                tampered = _("TAMPERED: first bad entry between #{low} and #{high}")
                console.print(f"[red]{tampered.format(low=low, high=high)}[/]")
            for problem in result.problems:
                console.print(f"[red]{safe(problem)}[/]", markup=True)
    if not result.ok:
        raise SystemExit(int(ExitCode.FAILED))


@pak.command("audit")
@click.option(
    "--late-after",
    type=DurationType(),
    default="24h",
    show_default=True,
    help="An entry recorded later than this after its stated time is late.",
)
@click.option("--no-chain", is_flag=True, help="Skip verifying the hash chain.")
@json_option
@pass_app
def audit_(app: App, late_after: timedelta, no_chain: bool, as_json: bool) -> None:
    """Findings an auditor asks about, with severity; exit 1 when any is high."""
    findings = audit(app.site, app.db, check_chain=not no_chain, late_after=late_after)
    if as_json:
        print_json({"findings": [f.to_json() for f in findings], "worst": worst(findings)})
    else:
        console = _console()
        severities, codes = _severity_labels(), _finding_labels()
        for f in findings:
            style = SEVERITY_STYLE[f.severity]
            code = codes.get(f.code, f.code)
            console.print(
                f"[{style}]{severities[f.severity]:<6}[/] {code:<30} {safe(f.message)}",
                markup=True,
                soft_wrap=True,
            )
        counts = {s: sum(1 for f in findings if f.severity == s) for s in SEVERITY_STYLE}
        summary = ", ".join(f"{n} {severities[s]}" for s, n in counts.items())
        total = ngettext("{n} finding ({summary})", "{n} findings ({summary})", len(findings))
        console.print(
            total.format(n=len(findings), summary=summary) if findings else _("no findings")
        )
    if worst(findings) == "high":
        raise SystemExit(int(ExitCode.FAILED))


def _severity_labels() -> dict[str, str]:
    """A finding's severity as printed: the code in English, in words in Russian."""
    return {"high": _("high"), "medium": _("medium"), "low": _("low")}


def _finding_labels() -> dict[str, str]:
    """A finding's code as printed (the code itself in English; --json keeps the code)."""
    return {
        "log-tampered": _("log-tampered"),
        "camera-action-during-exam": _("camera-action-during-exam"),
        "recording-off-before-exam-end": _("recording-off-before-exam-end"),
        "start-without-end": _("start-without-end"),
        "overlapping-actions": _("overlapping-actions"),
        "unknown-person": _("unknown-person"),
        "late-entry": _("late-entry"),
        "entry-before-action": _("entry-before-action"),
    }
