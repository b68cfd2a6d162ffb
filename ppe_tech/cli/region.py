"""``ppe-tech region``: hand an exam over to the region's S3 storage; review it at the region."""

from __future__ import annotations

from pathlib import Path

import click

from ppe_tech.cli.common import (
    EXAM_RECORDED,
    App,
    CommandGroup,
    exam_option,
    json_option,
    pass_app,
    print_json,
    progress_enabled,
    stderr_console,
    stdout_console,
)
from ppe_tech.cli.report import local_time
from ppe_tech.errors import ConfigError, ExitCode
from ppe_tech.i18n import _, ngettext


@click.group(cls=CommandGroup)
def region() -> None:
    """Hand archives, reports and the access log over to the region's S3 storage; review them."""


@region.command("push")
@exam_option(EXAM_RECORDED)
@click.option("--bucket", help="Bucket (default: region.bucket of ppe.yaml).")
@click.option(
    "--workers",
    type=click.IntRange(1, 32),
    default=4,
    show_default=True,
    help="Objects sent at the same time.",
)
@json_option
@pass_app
def push(app: App, exam_id: str | None, bucket: str | None, workers: int, as_json: bool) -> None:
    """Upload the exam's bags, signed reports and log checkpoint; resumable, never overwrites.

    Exit 0 when everything is in the storage and verified, 1 when an object there has other
    bytes (a file changed after the hand-over), 2 bad config or missing bucket, 3 storage
    unreachable, 5 credentials missing or refused.
    """
    from ppe_tech.cli.recordings import bytes_progress
    from ppe_tech.region.push import push_exam, target_from_site

    site = app.site
    exam = app.exam(exam_id, recorded=True)
    if exam is None:
        raise ConfigError(_("no exam in ppe.yaml: give --exam ID"))
    target = target_from_site(site, bucket=bucket)
    err = stderr_console()
    label = _("push {exam}").format(exam=exam.id)
    with bytes_progress(progress_enabled() and not as_json, label) as progress:
        result = push_exam(
            site,
            app.db,
            exam,
            target,
            on_total=progress.on_total,
            on_bytes=progress.on_bytes,
            log=lambda m: err.print(m, markup=False),
            workers=workers,
        )
    if as_json:
        print_json(result.to_json())
        return
    from ppe_tech.fsutil import format_size

    lock = (
        _("locked until {until}").format(until=local_time(result.locked_until, app.site.tz))
        if result.locked_until
        else _("NOT locked")
    )
    objects = ngettext("{n} object", "{n} objects", result.objects).format(n=result.objects)
    click.echo(
        _(
            "exam {exam}: {objects} ({size}) under {base}/ in {location}: {sent} sent "
            "({sent_size}), {present} already there; checksums verified; {lock}"
        ).format(
            exam=result.exam_id,
            objects=objects,
            size=format_size(result.total_bytes),
            base=result.base_key,
            location=result.location,
            sent=result.sent,
            sent_size=format_size(result.sent_bytes),
            present=result.present,
            lock=lock,
        )
    )


@region.command("status")
@click.option("--exam", "exam_id", help="Only this exam.")
@click.option("--offline", is_flag=True, help="Only the point's records; do not ask the storage.")
@json_option
@pass_app
def status(app: App, exam_id: str | None, offline: bool, as_json: bool) -> None:
    """Per exam: what was handed over, when, its size, and whether the storage still agrees."""
    from ppe_tech.region.push import target_from_site
    from ppe_tech.region.status import exam_statuses

    target = None if offline else target_from_site(app.site)
    statuses = exam_statuses(app.db, target, exam_id)
    if as_json:
        print_json([s.to_json() for s in statuses])
    else:
        _status_table(statuses, app.site.tz)
    if any(s.agrees is False for s in statuses):
        raise SystemExit(int(ExitCode.FAILED))


def _status_table(statuses, tz) -> None:
    from rich.table import Table

    from ppe_tech.fsutil import format_size

    if not statuses:
        click.echo(_("nothing handed over yet (ppe-tech region push --exam ID)"))
        return
    table = Table(
        _("exam"),
        _("last push"),
        _("handed over at"),
        _("objects"),
        _("size"),
        _("locked until"),
        _("storage"),
    )
    pushes = {
        "complete": _("complete"),
        "refused": _("refused"),
        "failed": _("failed"),
        "interrupted": _("interrupted"),
        "running": _("running"),
    }
    for s in statuses:
        agree = {None: _("not asked"), True: _("agrees")}.get(
            s.agrees, _("DIFFERS: {problems}").format(problems="; ".join(s.problems[:3]))
        )
        table.add_row(
            s.exam_id,
            pushes.get(s.last_status, s.last_status),
            local_time(s.handed_over_at, tz),
            str(s.objects),
            format_size(s.bytes),
            local_time(s.locked_until, tz) if s.locked_until else _("no lock"),
            agree,
        )
    stdout_console().print(table)


@region.command("review")
@click.option("--bucket", required=True, help="The region's bucket.")
@click.option(
    "--endpoint", envvar="PPE_REGION_ENDPOINT", help="S3 endpoint URL ($PPE_REGION_ENDPOINT)."
)
@click.option("--prefix", default="", help="Key prefix before REGION/POINT/EXAM.")
@click.option(
    "--region-code", "region_code", help="Only this region's folder (default: every one)."
)
@click.option("--point", "point", help="Only this point (its code).")
@click.option("--exam", "exam_id", help="Only this exam.")
@click.option(
    "--trust",
    "trust",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="PEM file of certificates to trust (repeatable; default: each point's own).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Points reviewed at the same time (processes).",
)
@json_option
@pass_app
def review(
    app: App,
    *,
    bucket: str,
    endpoint: str | None,
    prefix: str,
    region_code: str | None,
    point: str | None,
    exam_id: str | None,
    trust: tuple[Path, ...],
    workers: int,
    as_json: bool,
) -> None:
    """At the regional centre: verify every point's bags, reports, log and deadlines (no site needed).

    Exit 0 when every point passes, 1 when any fails; 2 missing bucket, 3 storage
    unreachable, 5 credentials missing or refused.
    """
    from ppe_tech.region.review import ReviewRequest, review_region
    from ppe_tech.region.s3 import Target, credentials_from_env

    access, secret = credentials_from_env("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    target = Target(endpoint, bucket, prefix, access_key=access, secret_key=secret)
    request = ReviewRequest(
        target,
        region=region_code,
        point=point,
        exam=exam_id,
        trust=[p.read_bytes() for p in _readable(trust)],
    )
    report = review_region(request, workers=workers)
    if as_json:
        print_json(report.to_json())
    else:
        _review_table(report)
    if not report.ok:
        raise SystemExit(int(ExitCode.FAILED))


def _readable(paths: tuple[Path, ...]) -> tuple[Path, ...]:
    for path in paths:
        if not path.is_file():
            raise ConfigError(_("--trust {file}: no such file").format(file=path))
    return paths


def _review_table(report) -> None:
    from rich.table import Table

    if not report.exams:
        click.echo(_("nothing to review in {location}").format(location=report.location))
        return
    table = Table(
        _("point"),
        _("exam"),
        _("bag"),
        _("reports"),
        _("log"),
        _("deadline"),
        _("verdict"),
        title=report.location,
    )
    for row in report.exams:
        table.add_row(row.point, row.exam, *row.cells(), _("ok") if row.ok else _("FAILED"))
    stdout_console().print(table)
    label = _("problem")
    for row in report.exams:
        for problem in row.problems:
            click.echo(f"{label}: {row.point}/{row.exam}: {problem}")
    click.echo(f"{report.summary()}")
