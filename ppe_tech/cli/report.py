"""``ppe-tech report``: Signed PDF protocols: render, sign, countersign, verify."""

from __future__ import annotations

import click

from ppe_tech.cli.common import exam_option, json_option, lang_option, pass_app, print_json
from ppe_tech.cli.keys import terminal_ask
from ppe_tech.errors import ExitCode
from ppe_tech.site import STAFF_ROLES

LANG = lang_option()
EXAM = exam_option()
OUTPUT = click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of reports/."
)


@click.group()
def report() -> None:
    """Signed PDF protocols: render, sign, countersign, verify.

    Reports are PDF/A-3b with the raw results embedded as results.json, signed
    (PAdES) with the site key; the key passphrase comes from the environment
    variable named by signing.passphrase_env (default PPE_KEY_PASSPHRASE).
    """


def _made(app, kind: str, as_json: bool, **kwargs) -> None:
    from ppe_tech.reports.core import make_report

    if kwargs.get("output"):
        from pathlib import Path

        kwargs["output"] = Path(kwargs["output"])
    row = make_report(app.site, app.db, kind, ask=terminal_ask, **kwargs)
    if as_json:
        print_json(row)
        return
    click.echo(
        f"{row['number']}: {row['file']} (signed by the technician, sha256 {row['sha256'][:16]}...)"
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
    exam_id = app.exam_id(exam_id)
    for number in numbers:
        _made(
            app,
            "room",
            as_json,
            exam_id=exam_id,
            room=number,
            lang=lang,
            allow_incomplete=allow_incomplete,
        )


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
    note = "" if result["registered"] else " (not a report of this site's store)"
    click.echo(f"{file}: signed as {role}{note}")


@report.command("verify")
@click.argument("file", type=click.Path(dir_okay=False))
@json_option
@pass_app
def verify(app, file, as_json) -> None:
    """Check FILE: signatures, changes after signing, data vs store, log checkpoint.

    Exit 0 when every check passed, 1 otherwise.
    """
    from pathlib import Path

    from ppe_tech.reports.verify import verify_report

    result = verify_report(app.site, app.db, Path(file))
    if as_json:
        print_json(result.to_json())
    else:
        click.echo(result.verdict)
        for sig in result.signatures:
            cert = sig.certificate
            own = {True: "own key", False: "ANOTHER PERSON'S KEY", None: "person unknown"}
            click.echo(
                f"  {sig.field}: {sig.person or '?'}; certificate {sig.signer} "
                f"(serial {cert.get('serial', '?')}, issuer {cert.get('issuer', '?')}); "
                f"valid {'yes' if sig.valid else 'NO'}, trusted {'yes' if sig.trusted else 'NO'}, "
                f"{own[sig.own_key]}"
            )
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
    if not rows:
        click.echo("no reports yet (ppe-tech report readiness|archive|access-log)")
    for r in rows:
        click.echo(
            f"{r['number']}  {r['kind']:<10}  {r['lang']}  {r['created_at'][:16]}  "
            f"{'+'.join(r['signers']):<22}  {r['path']}"
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
    for key in (
        "number",
        "kind",
        "exam_id",
        "lang",
        "file",
        "sha256",
        "data_sha256",
        "created_at",
        "signed_at",
    ):
        click.echo(f"{key}: {item[key] if item[key] is not None else '-'}")
    click.echo(f"signers: {', '.join(item['signers'])}")
    if item.get("checkpoint"):
        click.echo("checkpoint:")
        for line in item["checkpoint"].rstrip("\n").splitlines():
            click.echo(f"  {line}")
