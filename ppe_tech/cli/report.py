"""``ppe-tech report``: Signed PDF protocols: render, sign, countersign, verify."""

from __future__ import annotations

import click

from ppe_tech.cli.common import (
    CommandGroup,
    exam_option,
    json_option,
    lang_option,
    pass_app,
    print_json,
)
from ppe_tech.cli.keys import terminal_ask
from ppe_tech.errors import ExitCode
from ppe_tech.i18n import _
from ppe_tech.site import STAFF_ROLES

LANG = lang_option()
EXAM = exam_option()
OUTPUT = click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of reports/."
)


@click.group(cls=CommandGroup)
def report() -> None:
    """Signed PDF protocols: render, sign, countersign, verify.

    Reports are PDF/A-3b with the raw results embedded as results.json, signed
    (PAdES) with the site key; the key passphrase comes from the environment
    variable named by signing.passphrase_env (default PPE_KEY_PASSPHRASE).
    """


def _made(app, kind: str, as_json: bool, **kwargs) -> None:
    from ppe_tech.reports.core import make_reports

    if kwargs.get("output"):
        from pathlib import Path

        kwargs["output"] = Path(kwargs["output"])
    for row in make_reports(app.site, app.db, kind, ask=terminal_ask, **kwargs):
        _echo_made(row, as_json)


def _echo_made(row, as_json: bool) -> None:
    if as_json:
        print_json(row)
        return
    click.echo(
        _("{number}: {file} (signed by the technician, sha256 {sha256}...)").format(
            number=row["number"], file=row["file"], sha256=row["sha256"][:16]
        )
    )


INCOMPLETE = click.option(
    "--allow-incomplete",
    is_flag=True,
    help="Make the report even with a part missing; its title then says 'incomplete'.",
)


@report.command("readiness")
@EXAM
@click.option(
    "--run",
    "run_id",
    type=click.IntRange(min=1),
    help="Checklist run (default: the exam's latest).",
)
@INCOMPLETE
@LANG
@OUTPUT
@json_option
@pass_app
def readiness(app, *, exam_id, run_id, allow_incomplete, lang, output, as_json) -> None:
    """Readiness protocol: the exam's checklist run, the camera run it made, snapshots.

    Exit 1 when a part is missing (no checklist run, cameras not verified) unless
    --allow-incomplete.
    """
    options = {"run_id": run_id, "allow_incomplete": allow_incomplete}
    _made(
        app, "readiness", as_json, exam_id=app.exam_id(exam_id), lang=lang, output=output, **options
    )


@report.command("act")
@EXAM
@click.option(
    "--run",
    "run_id",
    type=click.IntRange(min=1),
    help="Checklist run (default: the exam's latest).",
)
@INCOMPLETE
@LANG
@OUTPUT
@json_option
@pass_app
def act(app, *, exam_id, run_id, allow_incomplete, lang, output, as_json) -> None:
    """Readiness act of the point (form ППЭ-01), the day before the exam: signed by the head
    of the point and the head of the host organisation (report sign --as organisation_head)."""
    options = {"run_id": run_id, "allow_incomplete": allow_incomplete}
    _made(app, "act", as_json, exam_id=app.exam_id(exam_id), lang=lang, output=output, **options)


@report.command("room")
@EXAM
@click.option(
    "--room", "rooms", metavar="NUMBER", multiple=True, help="Room number (0001), or 'all'."
)
@INCOMPLETE
@LANG
@json_option
@pass_app
def room(app, *, exam_id, rooms, allow_incomplete, lang, as_json) -> None:
    """Protocol of one room (form ППЭ-01-01, auditorium; ППЭ-01-02, staff room): its stations
    row by row, its cameras with snapshot and verdict; one PDF per room (--room all)."""
    from ppe_tech.reports.context import room_numbers

    numbers = room_numbers(app.site) if not rooms or "all" in rooms else list(rooms)
    options = {"exam_id": app.exam_id(exam_id), "lang": lang, "allow_incomplete": allow_incomplete}
    _made(app, "room", as_json, rooms=numbers, **options)


@report.command("archive")
@exam_option("the latest archive")
@click.option("--archive", "archive_id", type=click.IntRange(min=1), help="Archive number.")
@click.option("--bag", type=click.Path(file_okay=False), help="The bag folder the act is about.")
@INCOMPLETE
@LANG
@OUTPUT
@json_option
@pass_app
def archive(app, *, exam_id, archive_id, bag, allow_incomplete, lang, output, as_json) -> None:
    """Act of copying recordings: one act per bag (--bag PATH or --archive N), the medium,
    window, cameras, files, manifest hash, gaps, who received it, kept until 1 March."""
    options = {"exam_id": exam_id, "archive_id": archive_id, "bag": bag}
    _made(
        app,
        "archive",
        as_json,
        lang=lang,
        output=output,
        allow_incomplete=allow_incomplete,
        **options,
    )


@report.command("access-log")
@exam_option("the whole log; with an exam, its day")
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="First day of the extract.")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Last day of the extract.")
@LANG
@OUTPUT
@json_option
@pass_app
def access_log(app, *, exam_id, date_from, date_to, lang, output, as_json) -> None:
    """Access-log extract: the journal's columns, audit findings, log checkpoint."""
    _made(
        app,
        "access-log",
        as_json,
        exam_id=exam_id,
        lang=lang,
        output=output,
        date_from=date_from,
        date_to=date_to,
    )


@report.command("sign")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--as",
    "role",
    type=click.Choice(STAFF_ROLES),
    default="head",
    show_default=True,
    help="Role of the signer: the signature is made with that person's own key.",
)
@json_option
@pass_app
def sign(app, file, role, as_json) -> None:
    """Countersign FILE (incremental update: earlier signatures stay valid)."""
    from ppe_tech.reports.core import countersign

    result = countersign(app.site, app.db, file, role, ask=terminal_ask)
    if as_json:
        print_json(result)
        return
    from ppe_tech.reports.verify import role_label

    signed = _("{file}: signed as {role}").format(file=file, role=role_label(role))
    note = "" if result["registered"] else " " + _("(not a report of this site's store)")
    click.echo(f"{signed}{note}")


@report.command("verify")
@click.argument("file", type=click.Path(dir_okay=False))
@json_option
@pass_app
def verify(app, file, as_json) -> None:
    """Check FILE: signatures, changes after signing, data vs store, log checkpoint.

    Exit 0 when every check passed, 1 otherwise.
    """
    from pathlib import Path

    from ppe_tech.reports.verify import role_label, verify_report

    result = verify_report(app.site, app.db, Path(file))
    if as_json:
        print_json(result.to_json())
    else:
        click.echo(result.verdict)
        own = {True: _("own key"), False: _("ANOTHER PERSON'S KEY"), None: _("person unknown")}
        for sig in result.signatures:
            cert = sig.certificate
            line = _(
                "{role}: {person}; certificate {signer} (serial {serial}, issuer {issuer}); "
                "valid {valid}, trusted {trusted}, {own}"
            ).format(
                role=role_label(sig.field),
                person=sig.person or "?",
                signer=sig.signer,
                serial=cert.get("serial", "?"),
                issuer=cert.get("issuer_name", "?"),
                valid=_("yes") if sig.valid else _("NO"),
                trusted=_("yes") if sig.trusted else _("NO"),
                own=own[sig.own_key],
            )
            click.echo(f"  {line}")
    if not result.ok:
        raise SystemExit(int(ExitCode.FAILED))


@report.command("list")
@click.option(
    "--kind",
    type=click.Choice(["readiness", "act", "room", "archive", "access-log"]),
    help="Only this kind.",
)
@json_option
@pass_app
def list_(app, kind, as_json) -> None:
    """Reports registered in the store."""
    from ppe_tech.reports.core import list_reports

    rows = list_reports(app.db, kind)
    if as_json:
        print_json(rows)
        return
    from ppe_tech.reports.verify import role_label

    if not rows:
        click.echo(_("no reports yet (ppe-tech report readiness|archive|access-log)"))
    kinds, tz = kind_labels(), app.site.tz
    for r in rows:
        when = local_time(r["created_at"], tz)
        signers = " + ".join(role_label(s) for s in r["signers"])
        click.echo(
            f"{r['number']}  {kinds.get(r['kind'], r['kind'])}  {when}  {signers}  {r['path']}"
        )


@report.command("show")
@click.argument("ref", default="latest")
@click.option("--data", "with_data", is_flag=True, help="Include the embedded results.json.")
@json_option
@pass_app
def show(app, ref, with_data, as_json) -> None:
    """One report by number, id, file path or 'latest'."""
    from ppe_tech.reports.core import show_report

    item = show_report(app.site, app.db, ref, with_data)
    if as_json:
        print_json(item)
        return
    from ppe_tech.reports.verify import role_label

    shown = {
        "number": _("number"),
        "kind": _("kind"),
        "exam_id": _("exam"),
        "lang": _("language"),
        "file": _("file"),
        "sha256": _("sha256"),
        "data_sha256": _("data sha256"),
        "created_at": _("made at"),
        "signed_at": _("signed at"),
    }
    languages = {"ru": _("Russian"), "en": _("English")}
    values = {
        **item,
        "kind": kind_labels().get(item["kind"], item["kind"]),
        "lang": languages.get(item["lang"], item["lang"]),
        "created_at": local_time(item["created_at"], app.site.tz),
        "signed_at": local_time(item["signed_at"], app.site.tz),
    }
    for key, label in shown.items():
        click.echo(f"{label}: {values[key] if values[key] is not None else '-'}")
    signers = ", ".join(role_label(s) for s in item["signers"])
    click.echo(_("signers: {roles}").format(roles=signers))
    if item.get("checkpoint"):
        click.echo(_("checkpoint") + ":")
        for line in item["checkpoint"].rstrip("\n").splitlines():
            click.echo(f"  {line}")


def kind_labels() -> dict[str, str]:
    """A report's kind as printed: the code in English, its name in Russian."""
    return {
        "readiness": _("readiness"),
        "act": _("act"),
        "room": _("room"),
        "archive": _("archive"),
        "access-log": _("access-log"),
    }


def local_time(stamp: str | None, tz) -> str:
    """A stored ISO time as the point's local date and time with its zone (``-`` when none)."""
    from datetime import datetime

    from ppe_tech.timeutil import local_clock

    if not stamp:
        return "-"
    moment = datetime.fromisoformat(stamp)
    return f"{moment.astimezone(tz):%Y-%m-%d} {local_clock(moment, tz, seconds=False)}"
