"""``ppe-tech pak``: The video access (PAK) log: append, checkpoint, verify, audit."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from ppe_tech.cli.common import App, json_option, lang_option, pass_app, print_json, stdout_console
from ppe_tech.errors import ConfigError, ExitCode

SEVERITY_STYLE = {"high": "red", "medium": "yellow", "low": "cyan"}


@click.group()
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
    from ppe_tech.pak.journal import ACTIONS, action_from_words

    for number, (ru, en) in enumerate(ACTIONS.values(), start=1):
        click.echo(f"  {number}. {ru if lang == 'ru' else en}", err=True)
    while True:
        code = action_from_words(click.prompt("action (number or name)", err=True))
        if code is not None:
            return code
        click.echo(f"choose a number from 1 to {len(ACTIONS)}, or an action's name", err=True)


def _interactive(no_input: bool, as_json: bool) -> bool:
    return not no_input and not as_json and sys.stdin.isatty()


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--date {value!r} is not a date (use YYYY-MM-DD)") from None


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


def _gather(app: App, action, rooms, start, performed_by, responsible, note, no_input, as_json):
    from ppe_tech.pak.journal import action_from_words

    site = app.site
    if _interactive(no_input, as_json):
        lang = site.config.point.language
        if not action:
            action = _ask_action(lang)
        if not rooms:
            rooms = click.prompt("room(s)", err=True)
        if not start:
            start = click.prompt("start (HH:MM)", default="now", err=True)
        roles = ", ".join(site.config.staff)
        if performed_by is None:
            performed_by = click.prompt(
                f"performed by ({roles}, or 'Name, position')", default="technician", err=True
            )
        if responsible is None:
            responsible = click.prompt(
                f"responsible ({roles}, or 'Name, position')", default="head", err=True
            )
        if note is None:
            note = click.prompt("note", default="", show_default=False, err=True)
    if not action:
        raise ConfigError("--action is required (see: ppe-tech pak actions)")
    if not rooms:
        raise ConfigError("--room is required")
    action = action_from_words(action) or action  # "4" or the words work as well as the code
    return action, rooms, start, performed_by or "technician", responsible or "head", note or ""


def _when(site, text: str | None, day: date | None):
    from datetime import datetime

    from ppe_tech.pak.journal import parse_when

    if not text or text == "now":
        moment = datetime.now(site.tz).replace(second=0, microsecond=0)
        return (
            moment if day is None else moment.replace(year=day.year, month=day.month, day=day.day)
        )
    return parse_when(site, text, day)


def _print_entry(entry: dict, as_json: bool, verb: str) -> None:
    if as_json:
        print_json(entry)
        return
    when = entry["start_at"] if entry["kind"] != "end" else entry["end_at"]
    click.echo(
        f"{verb} #{entry['seq']}: {entry['action']} in {entry['rooms']} at {when} (hash {entry['hash'][:16]})"
    )


@pak.command("add")
@_entry_options
@click.option("--end", "-e", metavar="TIME", help="End time (HH:MM or ISO); omit for a moment.")
@pass_app
def add(
    app: App, action, rooms, day, start, performed_by, responsible, note, no_input, as_json, end
) -> None:
    """Append one entry (prompts for what is missing when interactive)."""
    from ppe_tech.pak.journal import record_action

    site = app.site
    d = _day(day)
    action, rooms, start, performed_by, responsible, note = _gather(
        app, action, rooms, start, performed_by, responsible, note, no_input, as_json
    )
    entry = record_action(
        site, app.db, action=action, rooms=rooms, start=_when(site, start, d),
        end=_when(site, end, d) if end else None, performed_by=performed_by,
        responsible=responsible, note=note,
    )  # fmt: skip
    _print_entry(entry, as_json, "added")


@pak.command("start")
@_entry_options
@pass_app
def start_(
    app: App, action, rooms, day, start, performed_by, responsible, note, no_input, as_json
) -> None:
    """Append the start of an action that spans time; close it with `pak end`."""
    from ppe_tech.pak.journal import start_action

    site = app.site
    action, rooms, start, performed_by, responsible, note = _gather(
        app, action, rooms, start, performed_by, responsible, note, no_input, as_json
    )
    entry = start_action(
        site, app.db, action=action, rooms=rooms, start=_when(site, start, _day(day)),
        performed_by=performed_by, responsible=responsible, note=note,
    )  # fmt: skip
    _print_entry(entry, as_json, "started")


@pak.command("end")
@click.argument("start_seq", type=int, required=False, metavar="[START_NO]")
@click.option("--at", "at", metavar="TIME", help="End time (default: now).")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="Day of an HH:MM time (default: today).")
@click.option("--by", "performed_by", default=None, help="Who ended it (default: who started it).")
@click.option("--note", "-n", default="", help="Note.")
@json_option
@pass_app
def end_(app: App, start_seq, at, day, performed_by, note, as_json) -> None:
    """Append the end of the action started by entry START_NO (default: the only open one)."""
    from ppe_tech.pak.journal import end_action

    site = app.site
    entry = end_action(
        site, app.db, start_seq=start_seq, end=_when(site, at, _day(day)),
        performed_by=performed_by, note=note,
    )  # fmt: skip
    _print_entry(entry, as_json, f"ended #{entry['end_of']} with")


@pak.command("actions")
@json_option
def actions(as_json: bool) -> None:
    """List the action codes with their Russian and English labels."""
    from ppe_tech.pak.journal import ACTIONS

    if as_json:
        print_json([{"code": c, "ru": ru, "en": en} for c, (ru, en) in ACTIONS.items()])
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
def list_(app: App, date_from, date_to, room, action, person, lang, as_json) -> None:
    """List the journal, one row per action (a start and its end merged)."""
    from rich.table import Table

    from ppe_tech.pak.journal import list_entries

    rows = list_entries(
        app.db, date_from=date_from, date_to=date_to, room=room, action=action, person=person
    )
    if as_json:
        print_json({"entries": rows})
        return
    lang = lang or app.site.config.point.language
    table = Table(title=f"PAK log: {len(rows)} entries", title_justify="left")
    for column in (
        "No.",
        "date",
        "room(s)",
        "time",
        "action",
        "performed by",
        "responsible",
        "note",
    ):
        table.add_column(column, overflow="fold")
    for row in rows:
        end = row["end"] or ("…" if row["open"] else "")
        time_text = f"{row['start']}-{end}" if end else row["start"]
        table.add_row(
            str(row["no"]), row["date"], row["rooms"], time_text,
            row["action_ru"] if lang == "ru" else row["action_en"],
            row["performed_by"], row["responsible"], row["note"],
        )  # fmt: skip
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
def export_(app: App, fmt, out, lang, date_from, date_to, room, action, person) -> None:
    """Export the journal as CSV or JSON, to a file or stdout."""
    from ppe_tech.fsutil import atomic_write_text
    from ppe_tech.pak.export import export

    if fmt is None:
        raise ConfigError("say --csv or --json")
    text = export(
        app.site, app.db, fmt, lang or app.site.config.point.language, date_from=date_from,
        date_to=date_to, room=room, action=action, person=person,
    )  # fmt: skip
    if out is None:
        click.echo(text, nl=False)
    else:
        atomic_write_text(out, text)
        click.echo(f"wrote {out}", err=True)


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
    from ppe_tech.fsutil import atomic_write_text
    from ppe_tech.pak.checkpoint import create_checkpoint

    cp = create_checkpoint(app.site, app.db)
    if out is not None:
        atomic_write_text(out, cp.text)
    if as_json:
        print_json({**cp.to_dict(), "file": str(out) if out else None})
        return
    click.echo(cp.text, nl=False)
    if out is not None:
        click.echo(f"wrote {out}", err=True)


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
    from ppe_tech.fsutil import storage_error
    from ppe_tech.pak.chain import verify_log

    texts = []
    for path in checkpoint_files:
        try:
            texts.append((str(path), path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ConfigError(f"--checkpoint {path}: no such file") from None
        except UnicodeDecodeError:
            raise ConfigError(f"--checkpoint {path}: not a text file") from None
        except OSError as exc:
            raise storage_error(exc, "cannot read", path) from None
    result = verify_log(app.site, app.db, checkpoints=texts)
    if as_json:
        print_json(result.to_dict())
    else:
        console = _console()
        for check in result.checkpoint_checks:
            mark = "[green]ok[/]" if check.ok else "[red]FAIL[/]"
            console.print(f"{mark}  {check.message}", markup=True)
        if result.ok:
            console.print(f"[green]{result.message}[/] ({result.seconds:.2f} s)")
        else:
            if result.first_bad is not None:
                console.print(f"[red]TAMPERED: first bad entry #{result.first_bad}[/]")
            elif result.bad_range:
                low, high = result.bad_range
                console.print(f"[red]TAMPERED: first bad entry between #{low} and #{high}[/]")
            for problem in result.problems:
                console.print(f"[red]{problem}[/]", markup=True)
    if not result.ok:
        raise SystemExit(int(ExitCode.FAILED))


@pak.command("audit")
@click.option(
    "--late-after",
    default="24h",
    show_default=True,
    help="An entry recorded later than this after its stated time is late.",
)
@click.option("--no-chain", is_flag=True, help="Skip verifying the hash chain.")
@json_option
@pass_app
def audit_(app: App, late_after: str, no_chain: bool, as_json: bool) -> None:
    """Findings an auditor asks about, with severity; exit 1 when any is high."""
    from ppe_tech.pak.audit import audit, worst
    from ppe_tech.timeutil import parse_duration

    try:
        late = parse_duration(late_after)
    except ValueError as exc:
        raise ConfigError(f"--late-after: {exc}") from None
    findings = audit(app.site, app.db, check_chain=not no_chain, late_after=late)
    if as_json:
        print_json({"findings": findings, "worst": worst(findings)})
    else:
        console = _console()
        for f in findings:
            style = SEVERITY_STYLE[f["severity"]]
            console.print(
                f"[{style}]{f['severity']:<6}[/] {f['code']:<30} {f['message']}",
                markup=True,
                soft_wrap=True,
            )
        counts = {s: sum(1 for f in findings if f["severity"] == s) for s in SEVERITY_STYLE}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items())
        console.print(f"{len(findings)} findings ({summary})" if findings else "no findings")
    if any(f["severity"] == "high" for f in findings):
        raise SystemExit(int(ExitCode.FAILED))
