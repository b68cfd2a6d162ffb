"""``ppe-tech report``: Signed PDF protocols: render, sign, countersign, verify."""

from __future__ import annotations

import click

from ppe_tech.cli.common import exam_option, json_option, lang_option, pass_app, print_json
from ppe_tech.errors import ExitCode

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
    row = make_report(app.site, app.db, kind, **kwargs)
    if as_json:
        print_json(row)
        return
    click.echo(
        f"{row['number']}: {row['file']} (signed by the technician, sha256 {row['sha256'][:16]}...)"
    )


@report.command("readiness")
@EXAM
@LANG
@OUTPUT
@json_option
@pass_app
def readiness(app, exam_id, lang, output, as_json) -> None:
    """Readiness protocol: checklist run, camera check and snapshots."""
    _made(app, "readiness", as_json, exam_id=exam_id, lang=lang, output=output)


@report.command("archive")
@exam_option("the latest archive")
@LANG
@OUTPUT
@json_option
@pass_app
def archive(app, exam_id, lang, output, as_json) -> None:
    """Archive act: window, cameras, files, sizes, manifest hash, gaps, bag location."""
    _made(app, "archive", as_json, exam_id=exam_id, lang=lang, output=output)


@report.command("access-log")
@exam_option("the whole log; with an exam, its day")
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="First day of the extract.")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Last day of the extract.")
@LANG
@OUTPUT
@json_option
@pass_app
def access_log(app, exam_id, date_from, date_to, lang, output, as_json) -> None:
    """Access-log extract: the journal's columns, audit findings, log checkpoint."""
    _made(app, "access-log", as_json, exam_id=exam_id, lang=lang, output=output,
          date_from=date_from, date_to=date_to)  # fmt: skip


@report.command("sign")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--as", "role", type=click.Choice(["technician", "head", "commission"]), default="head",
    show_default=True, help="Role of the signer (the stamp and signature field name).",
)  # fmt: skip
@json_option
@pass_app
def sign(app, file, role, as_json) -> None:
    """Countersign FILE (incremental update: earlier signatures stay valid)."""
    from ppe_tech.reports.core import countersign

    result = countersign(app.site, app.db, file, role)
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
        print_json(result)
    else:
        click.echo(result["verdict"])
    if not result["ok"]:
        raise SystemExit(int(ExitCode.FAILED))


@report.command("list")
@click.option(
    "--kind", type=click.Choice(["readiness", "archive", "access-log"]), help="Only this kind."
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
    for key in ("number", "kind", "exam_id", "lang", "file", "sha256", "data_sha256", "created_at",
                "signed_at"):  # fmt: skip
        click.echo(f"{key}: {item[key] if item[key] is not None else '-'}")
    click.echo(f"signers: {', '.join(item['signers'])}")
    if item.get("checkpoint"):
        click.echo("checkpoint:")
        for line in item["checkpoint"].rstrip("\n").splitlines():
            click.echo(f"  {line}")
