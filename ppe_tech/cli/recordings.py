"""``ppe-tech recordings``: watch recordings during the exam; archive and verify the footage."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from ppe_tech.cli.common import (
    EXAM_RECORDED,
    App,
    DurationType,
    SizeType,
    exam_option,
    hold_run_lock,
    json_option,
    pass_app,
    print_json,
    progress_enabled,
    safe,
    stderr_console,
    stdout_console,
    wait_option,
    zone_label,
)
from ppe_tech.errors import ConfigError, ExitCode


@click.group()
def recordings() -> None:
    """Watch recordings during the exam; archive and verify the corridor and entrance footage."""


@contextlib.contextmanager
def bytes_progress(enabled: bool, label: str):
    """A rich bar with bytes, bytes/s and time left on stderr; yields ppe_tech Progress callbacks."""
    from ppe_tech.recordings.archive import Progress

    if not enabled:
        yield Progress()
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.progress import (
        Progress as Bar,
    )

    with Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=stderr_console(),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def on_total(total: int) -> None:
            bar.update(task, total=total, completed=0)

        def on_phase(phase: str) -> None:
            bar.update(task, description=f"{label}: {phase}")

        yield Progress(
            on_total=on_total, on_bytes=lambda n: bar.advance(task, n), on_phase=on_phase
        )


@recordings.command("status")
@exam_option(EXAM_RECORDED)
@json_option
@pass_app
def status(app: App, exam_id: str | None, as_json: bool) -> None:
    """Per camera: the newest segment's age, coverage of the exam window, gaps; free space.

    Exit 1 when something needs attention: a camera silent while the exam runs, gaps in
    the exam window, low disk space (listed under "problems").
    """
    from ppe_tech.recordings.status import recording_status

    result = recording_status(app.site, app.db, exam_id)
    if as_json:
        print_json(result)
    else:
        _print_status(result, app.site.tz)
    if result["problems"]:
        raise SystemExit(int(ExitCode.FAILED))


def _print_status(result: dict, tz) -> None:
    from datetime import datetime

    from rich.markup import escape
    from rich.table import Table

    from ppe_tech.fsutil import format_size
    from ppe_tech.i18n import _
    from ppe_tech.timeutil import human_duration, local_clock

    def clock(stamp: str | None) -> str:
        return "-" if stamp is None else local_clock(datetime.fromisoformat(stamp), tz)

    console = stdout_console()
    exam = result["exam"]
    title = _("Recordings under {root}").format(root=result["root"])
    if exam:
        title += " — " + _("exam {exam}").format(exam=exam["id"])
        if not exam["window"]:
            title += " " + _("(not started: no coverage yet)")
    table = Table(title=escape(title), title_justify="left")
    columns = (
        _("camera"),
        _("zone"),
        _("segments"),
        _("newest end"),
        _("age"),
        _("coverage"),
        _("gaps"),
    )
    for number, column in enumerate(columns):
        table.add_column(column, overflow="fold", no_wrap=number == 0)
    for row in result["cameras"]:
        age = row["age_seconds"]
        age_text = "-" if age is None else human_duration(age)
        style = "green" if row["live"] else "red"
        cov = row["coverage"]
        gaps = row["gaps"]
        gap_text = ", ".join(
            f"{clock(g['start'])} ({human_duration(g['seconds'])})" for g in gaps[:3]
        )
        if len(gaps) > 3:
            gap_text += " " + _("(+{n} more)").format(n=len(gaps) - 3)
        extra = " " + _("({n} unreadable)").format(n=row["unreadable"]) if row["unreadable"] else ""
        table.add_row(
            escape(row["camera"]),
            zone_label(row["zone"]),
            f"{row['segments']}{extra}",
            clock(row["newest_end"]),
            f"[{style}]{age_text}[/]",
            "-" if cov is None else f"{cov:.1%}",
            gap_text or ("-" if cov is None else _("none")),
        )
    console.print(table)
    free = result["free_bytes"]
    style = "red" if result["low_space"] else "green"
    free_text = format_size(free) if free is not None else "?"
    console.print(
        _("free on the recording disk: {free} (alert under {limit})").format(
            free=f"[{style}]{free_text}[/]", limit=format_size(result["min_free_bytes"])
        )
    )
    label = _("problem")
    for problem in result["problems"]:
        console.print(f"[red]{label}:[/] {safe(problem)}")


@recordings.command("archive")
@exam_option(EXAM_RECORDED)
@click.option("--zones", help="Comma-separated zones (default: archive.zones, corridor,entrance).")
@click.option(
    "--margin",
    type=DurationType(),
    help="Time before the start and after the end, e.g. 30m (default: archive.margin).",
)
@click.option(
    "--to",
    "target",
    type=click.Path(path_type=Path),
    help="An existing folder to write the bag into (default: archive.target).",
)
@click.option(
    "--no-decode-check",
    is_flag=True,
    help="Skip decoding each file's first frame and last keyframe (undecodable files go unnoticed).",
)
@wait_option("archive of this exam")
@json_option
@pass_app
def archive(app: App, *, exam_id, zones, margin, target, no_decode_check, wait, as_json) -> None:
    """Copy the exam's recordings into a verified BagIt bag (resumable).

    Exit 0 when the bag is written (gaps and undecodable segments are reported, not fatal),
    2 on bad arguments or a destination folder that does not exist, 3 on a read or write
    error, 4 when the destination is too small.
    """
    from ppe_tech.recordings.archive import archive_exam, archive_target, plan_archive

    site = app.site
    exam = app.exam(exam_id, recorded=True)
    if exam is None:
        raise ConfigError("no exam in ppe.yaml: give --exam ID")
    exam_id = exam.id
    hold_run_lock(site, f"archive-{exam_id}", f"archive of exam {exam_id}", wait)
    err = stderr_console()
    chosen = archive_target(site, target)
    if chosen.warning:
        err.print(f"[yellow]warning:[/] {safe(chosen.warning)}", soft_wrap=True)
    zone_list = [z.strip() for z in zones.split(",") if z.strip()] if zones else None
    plan = plan_archive(site, app.db, exam_id, zones=zone_list, margin=margin)
    if plan.window_open and not as_json:
        err.print(
            f"[yellow]warning:[/] the exam window ends at {plan.window_end:%Y-%m-%d %H:%M} UTC: "
            "recordings after now are missing from this archive"
        )
    if plan.pending and not as_json:
        err.print(
            f"[yellow]warning:[/] {len(plan.pending)} segments still being written are left "
            "out; run again when the recorder has closed them"
        )
    with bytes_progress(progress_enabled() and not as_json, "archive") as progress:
        result = archive_exam(
            site,
            app.db,
            plan,
            chosen.path,
            progress=progress,
            log=err.print,
            decode=not no_decode_check,
        )
    if as_json:
        print_json(result.to_json())
    else:
        _print_archive(result.to_json())


def _print_archive(result: dict) -> None:
    from ppe_tech.fsutil import format_size

    out = stdout_console()
    if result["already_complete"]:
        out.print(f"[green]already archived[/] and verified: {safe(result['bag_path'])}")
    else:
        rate = result["bytes_per_second"]
        reused = result["reused_files"]
        out.print(
            f"[green]archived[/] {result['file_count']} files, "
            f"{format_size(result['total_bytes'])} into {safe(result['bag_path'])} in "
            f"{result['seconds']:.1f}s"
            + (f" ({format_size(rate)}/s)" if rate else "")
            + (f"; {reused} finished files from an interrupted run checked" if reused else "")
        )
    out.print(
        f"window {result['window_start']} .. {result['window_end']}, "
        f"cameras {safe(', '.join(result['cameras']))}"
    )
    for gap in result["gaps"]:
        out.print(
            f"[yellow]gap[/] {safe(gap['camera'])}: {gap['start']} .. {gap['end']} "
            f"({gap['seconds']:g}s)"
        )
    for bad in result["undecodable"]:
        out.print(f"[red]undecodable[/] {safe(bad['path'])}: {safe(bad['reason'])}")
    if result.get("pak_entry"):
        out.print(f"recorded in the PAK log as entry {result['pak_entry']}")


@recordings.command("verify")
@click.argument("bag", type=click.Path(path_type=Path))
@click.option("--fast", is_flag=True, help="Only completeness and Payload-Oxum (no re-hash).")
@click.option(
    "--workers", type=click.IntRange(1, 32), help="Files hashed in parallel (default: CPU count)."
)
@json_option
@pass_app
def verify(app: App, bag: Path, fast: bool, workers: int | None, as_json: bool) -> None:
    """Check a bag: every checksum (files in parallel), or with --fast the Payload-Oxum only.

    When the site's store knows the bag (written to this folder, under this name, or with
    this manifest), the bag must also match the store's record: its files, their checksums
    and its ppe-archive.json. Exit 0 when the bag is valid, 1 when something is missing,
    extra or changed, or the bag is not what the site recorded.
    """
    from ppe_tech.recordings.verify import verify_archive

    with bytes_progress(progress_enabled() and not as_json and not fast, "verify") as progress:
        result = verify_archive(
            bag,
            conn=_site_store(app),
            fast=fast,
            workers=workers,
            on_bytes=progress.on_bytes,
            on_total=progress.on_total,
        )
    data = result.to_json()
    if as_json:
        print_json(data)
    else:
        _print_verify(data)
    if not result.valid:
        raise SystemExit(int(ExitCode.FAILED))


def _site_store(app: App):
    """The site's store, or None when no site is given or found (a bag checked elsewhere)."""
    import os

    from ppe_tech.site import find_site_folder

    try:
        find_site_folder(app.site_dir)
    except ConfigError:
        if app.site_dir or os.environ.get("PPE_SITE"):
            raise  # a site named but not there is an error, not "no site"
        return None
    return app.db


def _print_verify(data: dict) -> None:
    from ppe_tech.fsutil import format_size

    out = stdout_console()
    for problem in data["problems"]:
        line = f"{problem.get('path', '')} {problem.get('message', '')}".strip()
        out.print(f"[red]{problem['kind']}[/] {safe(line)}")
    verdict = "[green]VALID[/]" if data["valid"] else "[red]INVALID[/]"
    rate = data["bytes_per_second"]
    speed = f", {format_size(rate)}/s" if rate and data["mode"] == "full" else ""
    out.print(
        f"{verdict} ({data['mode']}): {data['files']} files, {format_size(data['bytes'])}, "
        f"{data['seconds']:.2f}s{speed}",
        soft_wrap=True,
    )
    if data["site"]:
        out.print(f"site: {safe(data['site']['note'])}", soft_wrap=True)


@recordings.command("list")
@json_option
@pass_app
def list_(app: App, as_json: bool) -> None:
    """List the archives written from this site."""
    from ppe_tech.recordings.results import list_archives

    rows = list_archives(app.db)
    if as_json:
        print_json({"archives": rows})
        return
    from ppe_tech.fsutil import format_size

    out = stdout_console()
    if not rows:
        out.print("no archives yet")
    for r in rows:
        out.print(
            f"#{r['run_id']} {r['created_at']} exam {r['exam_id']}: {r['file_count']} files, "
            f"{format_size(r['total_bytes'])}, {r['gaps']} gaps, {r['undecodable']} undecodable: {r['bag_path']}"
        )


@recordings.command("watch")
@click.option(
    "--stall",
    type=DurationType(),
    help="Alert when a camera's newest segment is older than this (default: recordings.stall).",
)
@click.option(
    "--min-free",
    type=SizeType(),
    help="Alert when the recording disk has less free space (default: recordings.min_free).",
)
@click.option(
    "--alert-command", help="Run this on each alert (split like a shell, run without one)."
)
@click.option(
    "--interval",
    type=DurationType(positive=True),
    default="1s",
    show_default=True,
    help="How often the checks run.",
)
@click.option(
    "--for",
    "run_for",
    type=DurationType(),
    help="Stop after this long (default: until Ctrl-C or SIGTERM).",
)
@json_option
@pass_app
def watch(app: App, *, stall, min_free, alert_command, interval, run_for, as_json) -> None:
    """Monitor the recording root live; alert on stalled cameras, gaps, low space, a lost root.

    Alerts go to stderr (one line each; with --json also as JSON lines on stdout), into the
    store, and to the alert command. Stops cleanly on Ctrl-C or SIGTERM (exit 0).
    """
    import shlex
    import signal
    import threading
    import time

    from ppe_tech.i18n import _, ngettext
    from ppe_tech.recordings.watch import Watcher, alert_lines
    from ppe_tech.timeutil import human_duration

    site = app.site
    argv = shlex.split(alert_command) if alert_command else None
    err = stderr_console()

    pending: list[dict] = []

    def emit(alert: dict) -> None:
        pending.append(alert)
        if as_json:
            import json
            import sys

            sys.stdout.write(json.dumps(alert, ensure_ascii=False, default=str) + "\n")
            sys.stdout.flush()

    def print_pending() -> None:
        for line in alert_lines(pending):
            err.print(f"ppe-tech: {line}", markup=False, highlight=False, soft_wrap=True)
        pending.clear()

    watcher = Watcher(
        site,
        app.db,
        emit=emit,
        stall=stall.total_seconds() if stall else None,
        interval=interval.total_seconds(),
        min_free=min_free,
        alert_command=argv,
    )
    stop = threading.Event()
    previous = {}

    def on_signal(signum, _frame) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, on_signal)
    until = time.monotonic() + run_for.total_seconds() if run_for else None
    watching = _("watching {root} (stall {stall}, layout {layout}); Ctrl-C to stop").format(
        root=watcher.root, stall=human_duration(watcher.stall), layout=site.config.recordings.layout
    )
    err.print(watching, markup=False, highlight=False)
    try:
        watcher.run(stop, until, after_tick=print_pending)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    stopped = ngettext("stopped; {n} alert", "stopped; {n} alerts", len(watcher.alerts))
    err.print(stopped.format(n=len(watcher.alerts)), markup=False, highlight=False)
