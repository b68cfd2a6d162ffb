"""``ppe-tech station`` (run, enroll, import, confirm) and ``ppe-tech stations`` (readiness)."""

from __future__ import annotations

from pathlib import Path

import click

from ppe_tech.cli.common import (
    App,
    CommandGroup,
    exam_option,
    json_option,
    lang_option,
    manual_prompt,
    pass_app,
    print_json,
    print_warnings,
    stdout_console,
)
from ppe_tech.errors import ExitCode
from ppe_tech.i18n import _

STATE_STYLE = {
    "passed": "green",
    "confirmed": "green",
    "failed": "red",
    "stale": "yellow",
    "not-checked": "red",
}

EXAM = exam_option()
station_option = click.option("--station", "station_id", required=True, help="Station id.")
answer_options = [
    click.option(
        "--confirm",
        "confirms",
        multiple=True,
        metavar="ID[=COMMENT]",
        help="Confirm an item asked by hand.",
    ),
    click.option(
        "--answers",
        "answers_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="YAML file of answers (item id: yes | no | skip).",
    ),
    click.option("--no-input", is_flag=True, help="Never prompt; unanswered items stay so."),
]


def with_answers(command):
    for option in reversed(answer_options):
        command = option(command)
    return command


def _exam(app: App, exam_id: str | None, *, check: bool = False):
    from ppe_tech.errors import ConfigError

    exam = app.exam(exam_id, check=check)
    if exam is None:
        raise ConfigError(_("every exam of ppe.yaml is over: give --exam ID"))
    return exam


def _request(app: App, station_id, exam, options: dict, *, by_hand: bool):
    """The StationRequest: answers from --answers/--confirm checked against the checklist."""
    import sys

    from ppe_tech.checklist.answers import check_known, load_answers, parse_confirm
    from ppe_tech.stations.run import StationRequest, operator_name, station_checklist

    site = app.site
    station = site.station(station_id)
    by = operator_name(site)
    answers = load_answers(options["answers_file"], by) if options["answers_file"] else {}
    answers.update(parse_confirm(options["confirms"], by))
    check_known(answers, station_checklist(site, station), "answers", by_hand=by_hand)
    interactive = not options["no_input"] and sys.stdin.isatty() and not options["as_json"]
    lang = options["lang"] or site.config.point.language
    ask = manual_prompt(lang, by) if interactive else None
    return StationRequest(station=station, exam=exam, answers=answers, ask=ask), by


def _print_result(result, path: Path | None) -> None:
    from ppe_tech.stations.results import how_label, role_label

    line = _("{station} (room {room}, {role}), exam {exam}, {how}: {status}").format(
        station=result.station_id,
        room=result.room,
        role=role_label(result.role),
        exam=result.exam_id,
        how=how_label(result.how),
        status=_result_status(result.status),
    )
    failed = result.failed_items
    more = " " + _("(not passed: {items})").format(items=", ".join(failed)) if failed else ""
    click.echo(line + more)
    if result.reachable:
        where = f"{result.reachable['host']}:{result.reachable['port']}"
        answer = (
            _("{host} answers on the LAN")
            if result.reachable["reachable"]
            else _("{host} does NOT answer on the LAN")
        )
        click.echo("  " + answer.format(host=where))
    if path:
        click.echo("  " + _("wrote {file}").format(file=path))


def _sent_status(status: str) -> str:
    """The console's answer to a sent result: imported | already (stored before)."""
    return {"imported": _("imported"), "already": _("already imported")}.get(status, status)


def _result_status(status: str) -> str:
    """A station check's status as printed: passed | failed | interrupted."""
    labels = {"passed": _("passed"), "failed": _("failed"), "interrupted": _("interrupted")}
    return labels.get(status, status)


def _exit_for(result) -> None:
    if result.status == "interrupted":
        raise SystemExit(int(ExitCode.INTERRUPTED))
    if not result.passed:
        raise SystemExit(int(ExitCode.FAILED))


@click.group(cls=CommandGroup)
def station() -> None:
    """Check one station: on it from a stick (run), or by hand (confirm); import results."""


@station.command("run")
@station_option
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the result file (the stick's results/).",
)
@click.option("--exam", "exam_id", help="Exam id (default: the one the stick was enrolled for).")
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Signing key (default: keys/station-signing.json of the site on the stick).",
)
@click.option(
    "--send",
    "send_url",
    metavar="https://HOST:PORT",
    help="Also post the result to the console (trusting only the certificate enrolled on the stick).",
)
@with_answers
@lang_option("Language of the questions")
@json_option
@pass_app
def run(app: App, *, station_id, out_dir, exam_id, key_file, send_url, as_json, **options) -> None:
    """Run this station's checklist here and write a signed result file into --out.

    Exit 0 when every critical item passed, 1 when one did not, 130 when interrupted
    (the file is written in every case, before it is sent).
    """
    from ppe_tech.errors import KeysError
    from ppe_tech.stations.resultfile import write_result
    from ppe_tech.stations.run import run_station
    from ppe_tech.stations.signing import load_signing_key

    key = load_signing_key(app.site, key_file)
    if exam_id and exam_id != key.key.exam_id:
        raise KeysError(
            _("the stick was enrolled for exam {enrolled}, not {exam}").format(
                enrolled=key.key.exam_id, exam=exam_id
            )
        )
    exam = app.site.exam(key.key.exam_id)
    request, _by = _request(app, station_id, exam, {**options, "as_json": as_json}, by_hand=False)
    result = run_station(app.site, request)
    path = write_result(out_dir, result, key)
    if send_url:
        from ppe_tech.console.send import CONSOLE_CERT, send_result

        answer = send_result(send_url, path.read_bytes(), app.site.folder / "keys" / CONSOLE_CERT)
        click.echo(
            _("sent to the console: {status} (run {run})").format(
                status=_sent_status(answer["status"]), run=answer["run_id"]
            ),
            err=True,
        )
    if as_json:
        print_json({"file": str(path), "result": result.to_json()})
    else:
        _print_result(result, path)
    _exit_for(result)


@station.command("enroll")
@click.argument("stick", type=click.Path(file_okay=False, path_type=Path))
@EXAM
@json_option
@pass_app
def enroll(app: App, stick: Path, exam_id: str | None, as_json: bool) -> None:
    """Prepare STICK for the station checks of one exam: a new signing key, the site's
    rooms, stations and checklists. Run on the technician's machine."""
    from ppe_tech.stations.signing import enroll as enroll_stick

    print_warnings(app)
    enrolment = enroll_stick(app.site, _exam(app, exam_id), stick)
    if as_json:
        print_json(enrolment.to_json())
        return
    click.echo(
        _("enrolled key {key} for exam {exam}").format(
            key=enrolment.key.key_id, exam=enrolment.key.exam_id
        )
    )
    click.echo(_("on each station run:"))
    click.echo(
        f"  ppe-tech --site {enrolment.stick_site} station run --station ID --out {enrolment.results}"
    )
    click.echo(
        _("then here: {command}").format(command=f"ppe-tech station import {enrolment.results}")
    )


@station.command("import")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@EXAM
@json_option
@pass_app
def import_(app: App, folder: Path, exam_id: str | None, as_json: bool) -> None:
    """Verify and store every result file in FOLDER (a stick's results/).

    A file edited after it was written, from another point, for another exam or signed with
    an unknown key is refused with one line; the others are imported. Exit 1 if any was refused.
    """
    from ppe_tech.stations.resultfile import import_folder

    exam = app.exam(exam_id)
    report = import_folder(app.site, app.db, folder, exam_id=exam.id if exam else None)
    for name, reason in report.refused:
        click.echo(
            "ppe-tech: " + _("refused: {file}: {reason}").format(file=name, reason=reason),
            err=True,
        )
    if as_json:
        print_json(report.to_json())
    else:
        click.echo(
            _("imported {imported}, already imported {already}, refused {refused}").format(
                imported=len(report.imported),
                already=len(report.already),
                refused=len(report.refused),
            )
        )
    if report.refused:
        raise SystemExit(int(ExitCode.FAILED))


@station.command("confirm")
@station_option
@EXAM
@with_answers
@lang_option("Language of the questions")
@json_option
@pass_app
def confirm(app: App, *, station_id, exam_id, as_json, **options) -> None:
    """Check a station by hand: every item is asked (or taken from --answers); stored as
    "confirmed by hand" with who confirmed. A station with a host is also checked on the LAN."""
    from ppe_tech.stations.results import save_station_run
    from ppe_tech.stations.run import confirm_station

    print_warnings(app)
    exam = _exam(app, exam_id, check=True)
    request, by = _request(app, station_id, exam, {**options, "as_json": as_json}, by_hand=True)
    result = confirm_station(app.site, request, by=by)
    run_id = save_station_run(app.db, result)
    if as_json:
        print_json({"run_id": run_id, "result": result.to_json()})
    else:
        _print_result(result, None)
    _exit_for(result)


def _local(moment, tz) -> str:
    return moment.astimezone(tz).strftime("%d.%m %H:%M") if moment else "-"


def _print_readiness(readiness, tz) -> None:
    """Per room: one verdict line (never wrapped, so it can be read by grep), then its table."""
    from rich.table import Table

    from ppe_tech.cameras.findings import status_label
    from ppe_tech.stations.results import how_label, role_label, state_label

    console = stdout_console()
    for room in readiness.rooms:
        verdict = (
            _("ready")
            if room.ready
            else _("NOT READY: {reasons}").format(reasons=", ".join(room.reason_texts))
        )
        click.echo(f"\n{room.label_text} ({room.name or '-'}): {verdict}")
        table = Table(show_edge=False)
        columns = (_("station / camera"), _("role"), _("state"), _("when"), _("how"), _("detail"))
        for column in columns:
            table.add_column(column, overflow="fold")
        for s in room.stations:
            state = f"[{STATE_STYLE.get(s.state, '')}]{state_label(s.state)}[/]"
            when = _local(s.checked_at, tz)
            table.add_row(
                s.station_id, role_label(s.role), state, when, how_label(s.how), s.reason_text
            )
        for c in room.cameras:
            when = _local(c.checked_at, tz)
            table.add_row(
                c.camera_id,
                _("camera"),
                status_label(c.status),
                when,
                _("cameras verify"),
                "",
            )
        console.print(table)
    deadline = _("deadline {time}").format(time=_local(readiness.deadline, tz))
    click.echo(f"\n{readiness.summary_text()} ({deadline})")


@click.command()
@EXAM
@json_option
@pass_app
def stations(app: App, exam_id: str | None, as_json: bool) -> None:
    """Every station of every room, each room's readiness and the point's.

    Exit 0 only when every room is ready.
    """
    from ppe_tech.stations.results import point_readiness

    print_warnings(app)
    readiness = point_readiness(app.db, app.site, _exam(app, exam_id))
    if as_json:
        print_json(readiness.to_json())
    else:
        _print_readiness(readiness, app.site.tz)
    if not readiness.ready:
        raise SystemExit(int(ExitCode.FAILED))
