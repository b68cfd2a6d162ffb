"""``ppe-tech recordings``: watch recordings during the exam; archive and verify the footage."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from ppe_tech.cli.common import (
    EXAM_RECORDED,
    App,
    CommandGroup,
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
from ppe_tech.i18n import _, ngettext


@click.group(cls=CommandGroup)
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
        DownloadColumn(binary_units=True),  # GiB, as every size the command line prints
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
    from ppe_tech import interrupts
    from ppe_tech.fsutil import format_size
    from ppe_tech.recordings.archive import (
        ArchiveInterrupted,
        archive_exam,
        archive_target,
        local_window,
        plan_archive,
    )

    site = app.site
    exam = app.exam(exam_id, recorded=True)
    if exam is None:
        raise ConfigError(_("no exam in ppe.yaml: give --exam ID"))
    exam_id = exam.id
    what = _("archive of exam {exam}").format(exam=exam_id)
    hold_run_lock(site, f"archive-{exam_id}", what, wait)
    err = stderr_console()
    warning = _("warning")
    chosen = archive_target(site, target)
    if chosen.warning:
        err.print(f"[yellow]{warning}:[/] {safe(chosen.warning)}", soft_wrap=True)
    zone_list = [z.strip() for z in zones.split(",") if z.strip()] if zones else None
    plan = plan_archive(site, app.db, exam_id, zones=zone_list, margin=margin)
    if plan.window_open and not as_json:
        ends = _(
            "the exam window ends at {end}: recordings after now are missing from this archive"
        )
        err.print(
            f"[yellow]{warning}:[/] {ends.format(end=local_window(plan.window_end, site.tz))}"
        )
    if plan.pending and not as_json:
        pending = ngettext(
            "{n} segment still being written is left out; run again when the recorder has "
            "closed it",
            "{n} segments still being written are left out; run again when the recorder has "
            "closed them",
            len(plan.pending),
        )
        err.print(f"[yellow]{warning}:[/] {pending.format(n=len(plan.pending))}")
    try:
        with bytes_progress(progress_enabled() and not as_json, _("archive")) as progress:
            result = archive_exam(
                site,
                app.db,
                plan,
                chosen.path,
                progress=progress,
                log=err.print,
                decode=not no_decode_check,
            )
    except ArchiveInterrupted as stop:  # Ctrl-C or SIGTERM: the finished files are kept
        line = _(
            "interrupted: run the same command again to resume ({done} of {total} done); "
            "the partial bag is kept in {partial}"
        ).format(
            done=format_size(stop.done_bytes),
            total=format_size(stop.total_bytes),
            partial=stop.partial,
        )
        err.print(f"ppe-tech: {safe(line)}", soft_wrap=True, highlight=False)
        raise SystemExit(interrupts.exit_code()) from None
    if as_json:
        print_json(result.to_json())
    else:
        _print_archive(result.to_json(), site.tz)


def _print_archive(result: dict, tz) -> None:
    from datetime import datetime

    from ppe_tech.fsutil import format_size
    from ppe_tech.recordings.archive import local_window
    from ppe_tech.timeutil import human_duration, local_clock

    def when(stamp: str) -> datetime:
        return datetime.fromisoformat(stamp)

    out = stdout_console()
    if result["already_complete"]:
        done = _("already archived and verified: {bag}").format(bag=safe(result["bag_path"]))
        out.print(f"[green]{done}[/]", soft_wrap=True)
    else:
        rate = result["bytes_per_second"]
        reused = result["reused_files"]
        files = ngettext("{n} file", "{n} files", result["file_count"])
        line = _("archived {files}, {size} into {bag} in {seconds}").format(
            files=files.format(n=result["file_count"]),
            size=format_size(result["total_bytes"]),
            bag=safe(result["bag_path"]),
            seconds=human_duration(result["seconds"]),
        )
        if rate:
            line += " ({})".format(_("{size}/s").format(size=format_size(rate)))
        if reused:
            checked = ngettext(
                "{n} finished file from an interrupted run checked",
                "{n} finished files from an interrupted run checked",
                reused,
            )
            line += "; " + checked.format(n=reused)
        out.print(f"[green]{line}[/]", soft_wrap=True)
    window = local_window(when(result["window_start"]), tz, when(result["window_end"]))
    out.print(
        _("window {window}, cameras {cameras}").format(
            window=window, cameras=safe(", ".join(result["cameras"]))
        ),
        soft_wrap=True,
    )
    gap_label, bad_label = _("gap"), _("undecodable")
    for gap in result["gaps"]:  # "08:00:00 MSK, 10 min": the window line above has the date
        start = local_clock(when(gap["start"]), tz)
        out.print(
            f"[yellow]{gap_label}[/] {safe(gap['camera'])}: {start}, "
            f"{human_duration(gap['seconds'])}"
        )
    for bad in result["undecodable"]:
        out.print(f"[red]{bad_label}[/] {safe(bad['path'])}: {safe(bad['reason'])}")
    if result.get("pak_entry"):
        out.print(_("recorded in the PAK log as entry {n}").format(n=result["pak_entry"]))


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

    showing = progress_enabled() and not as_json and not fast
    with bytes_progress(showing, _("verify")) as progress:
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


def _problem_labels() -> dict[str, str]:
    """A bag problem's kind as printed (the kind itself in English; --json keeps it)."""
    return {
        "missing": _("missing file"),
        "extra": _("extra"),
        "changed": _("changed"),
        "changed-tag": _("changed-tag"),
        "missing-tag": _("missing-tag"),
        "outside-payload": _("outside-payload"),
        "oxum": _("oxum"),
        "unreadable": _("unreadable"),
        "site-record": _("site-record"),
        "archive-json": _("archive-json"),
    }


def _print_verify(data: dict) -> None:
    from ppe_tech.fsutil import format_size

    out = stdout_console()
    kinds = _problem_labels()
    for problem in data["problems"]:
        line = f"{problem.get('path', '')} {problem.get('message', '')}".strip()
        out.print(f"[red]{kinds.get(problem['kind'], problem['kind'])}[/] {safe(line)}")
    verdict = (
        "[green]{}[/]".format(_("VALID")) if data["valid"] else "[red]{}[/]".format(_("INVALID"))
    )
    mode = _("full") if data["mode"] == "full" else _("fast")
    rate = data["bytes_per_second"]
    speed = _("{size}/s").format(size=format_size(rate)) if rate and data["mode"] == "full" else ""
    files = ngettext("{n} file", "{n} files", data["files"]).format(n=data["files"])
    took = _("{seconds} s").format(seconds=f"{data['seconds']:.2f}")
    out.print(
        f"{verdict} ({mode}): {files}, {format_size(data['bytes'])}, {took}"
        + (f", {speed}" if speed else ""),
        soft_wrap=True,
    )
    if data["site"]:
        out.print(_("site: {note}").format(note=safe(data["site"]["note"])), soft_wrap=True)


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
    from datetime import datetime

    from ppe_tech.fsutil import format_size
    from ppe_tech.recordings.archive import local_window

    out = stdout_console()
    if not rows:
        out.print(_("no archives yet"))
    tz = app.site.tz
    for r in rows:
        line = _(
            "#{n} {made} exam {exam}: {files}, {size}, gaps {gaps}, undecodable {undecodable}: "
            "{bag}"
        ).format(
            n=r["run_id"],
            made=local_window(datetime.fromisoformat(r["created_at"]), tz),
            exam=r["exam_id"],
            files=ngettext("{n} file", "{n} files", r["file_count"]).format(n=r["file_count"]),
            size=format_size(r["total_bytes"]),
            gaps=r["gaps"],
            undecodable=r["undecodable"],
            bag=r["bag_path"],
        )
        out.print(safe(line), soft_wrap=True)


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
