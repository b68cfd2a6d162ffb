"""``ppe-tech region``: hand an exam over to the region's S3 storage; review it at the region."""

from __future__ import annotations

from pathlib import Path

import click

from ppe_tech.cli.common import (
    EXAM_RECORDED,
    App,
    exam_option,
    json_option,
    pass_app,
    print_json,
    progress_enabled,
    stderr_console,
    stdout_console,
)
from ppe_tech.errors import ConfigError, ExitCode


@click.group()
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
        raise ConfigError("no exam in ppe.yaml: give --exam ID")
    target = target_from_site(site, bucket=bucket)
    err = stderr_console()
    with bytes_progress(progress_enabled() and not as_json, f"push {exam.id}") as progress:
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

    lock = f"locked until {result.locked_until}" if result.locked_until else "NOT locked"
    click.echo(
        f"exam {result.exam_id}: {result.objects} objects ({format_size(result.total_bytes)}) "
        f"under {result.base_key}/ in {result.location}: {result.sent} sent ({format_size(result.sent_bytes)}), "
        f"{result.present} already there; checksums verified; {lock}"
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
        _status_table(statuses)
    if any(s.agrees is False for s in statuses):
        raise SystemExit(int(ExitCode.FAILED))


def _status_table(statuses) -> None:
    from rich.table import Table

    from ppe_tech.fsutil import format_size

    if not statuses:
        click.echo("nothing handed over yet (ppe-tech region push --exam ID)")
        return
    table = Table(
        "exam", "last push", "handed over at", "objects", "size", "locked until", "storage"
    )
    for s in statuses:
        agree = {None: "not asked", True: "agrees"}.get(
            s.agrees, f"DIFFERS: {'; '.join(s.problems[:3])}"
        )
        table.add_row(
            s.exam_id,
            s.last_status,
            s.handed_over_at or "-",
            str(s.objects),
            format_size(s.bytes),
            s.locked_until or "no lock",
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
            raise ConfigError(f"--trust {path}: no such file")
    return paths


def _review_table(report) -> None:
    from rich.table import Table

    if not report.exams:
        click.echo(f"nothing to review in {report.location}")
        return
    table = Table(
        "point", "exam", "bag", "reports", "log", "deadline", "verdict", title=report.location
    )
    for row in report.exams:
        table.add_row(row.point, row.exam, *row.cells(), "ok" if row.ok else "FAILED")
    stdout_console().print(table)
    for row in report.exams:
        for problem in row.problems:
            click.echo(f"problem: {row.point}/{row.exam}: {problem}")
    click.echo(f"{report.summary()}")
