"""``ppe-tech cameras``: Verify camera streams and judge the picture against the approved reference."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from ppe_tech.cli.common import (
    App,
    Between,
    CommandGroup,
    confirm,
    echo_warning,
    exam_option,
    hold_run_lock,
    json_option,
    pass_app,
    print_json,
    progress_enabled,
    safe,
    stdout_console,
    wait_option,
    zone_label,
    zone_option,
)
from ppe_tech.errors import ExitCode
from ppe_tech.i18n import _, ngettext

STATUS_STYLE = {"ok": "green", "warning": "yellow", "fail": "red"}


@click.group(cls=CommandGroup)
def cameras() -> None:
    """Verify camera streams and judge the picture against the approved reference."""


class _Progress:
    """A live per-camera table on stderr (only when a person watches)."""

    def __init__(self, ids: list[str]):
        from rich.console import Console
        from rich.live import Live

        self.state = {i: ("waiting", "") for i in ids}
        self.live = Live(
            self._table(), console=Console(stderr=True), transient=True, refresh_per_second=8
        )

    def _table(self):
        from rich.table import Table

        from ppe_tech.cameras.findings import status_label

        table = Table(box=None, show_header=False)
        for cam, (phase, detail) in self.state.items():
            style = STATUS_STYLE.get(phase, "cyan")
            label = status_label(phase) if phase in STATUS_STYLE else _phase_label(phase)
            table.add_row(cam, f"[{style}]{label}[/]", detail)
        return table

    def __call__(self, camera_id: str, phase: str, data: dict) -> None:
        from ppe_tech.cameras.findings import code_label, status_of

        if phase == "done":
            codes = ", ".join(code_label(f["code"]) for f in data.get("findings", []))
            self.state[camera_id] = (status_of(data.get("findings", [])), codes)
        elif phase == "reading" and "frames" in data:
            frames = data["frames"]
            self.state[camera_id] = (
                "reading",
                ngettext("{n} frame", "{n} frames", frames).format(n=frames),
            )
        else:
            self.state[camera_id] = (phase, "")
        self.live.update(self._table())

    def __enter__(self):
        self.live.__enter__()
        return self

    def __exit__(self, *exc):
        return self.live.__exit__(*exc)


def _phase_label(phase: str) -> str:
    labels = {
        "waiting": _("waiting"),
        "started": _("started"),
        "connecting": _("connecting"),
        "reading": _("reading"),
        "decoding": _("decoding"),
        "analysing": _("analysing"),
    }
    return labels.get(phase, phase)


def _finding_line(f: dict) -> str:
    """``covered: structure of the reference lost ...`` in the language of the command line."""
    from ppe_tech.cameras.findings import code_label, message_text

    return f"{code_label(f['code'])}: {message_text(str(f['message']))}"


def _print_run(run: dict) -> None:
    from rich.table import Table

    from ppe_tech.cameras.findings import status_label

    console = stdout_console()
    exam = run["exam_id"] or _("no exam")
    table = Table(
        title=_("Camera verification {run} ({exam}, {finished})").format(
            run=run["run_id"], exam=exam, finished=run["finished_at"]
        ),
        title_justify="left",
    )
    columns = (
        _("camera"),
        _("zone"),
        _("status"),
        _("fps"),
        _("size"),
        _("findings"),
        _("snapshot"),
    )
    for column in columns:
        table.add_column(column, overflow="fold")
    for cam in run["cameras"]:
        m = cam["metrics"]
        style = STATUS_STYLE[cam["status"]]
        size = f"{m['width']}x{m['height']}" if "width" in m else "-"
        findings = "\n".join(safe(_finding_line(f)) for f in cam["findings"]) or "-"
        table.add_row(
            cam["id"],
            zone_label(cam["zone"]),
            f"[{style}]{status_label(cam['status'])}[/]",
            str(m.get("fps", "-")),
            size,
            findings,
            Path(cam["snapshot"]).name if cam["snapshot"] else "-",
        )
    console.print(table)
    counts = run["counts"]
    failed = counts.get("fail")
    verdict = _("FAILED") if failed else _("PASSED")
    verdict = f"[red]{verdict}[/]" if failed else f"[green]{verdict}[/]"
    n = len(run["cameras"])
    line = ngettext(
        "{n} camera: {counts}; snapshots in {folder}",
        "{n} cameras: {counts}; snapshots in {folder}",
        n,
    ).format(n=n, counts=_counts(counts), folder=safe(_snapshot_dir(run)))
    console.print(f"{verdict}  {line}")


def _counts(counts: dict[str, int]) -> str:
    """``4 ok, 1 fail`` (``исправны: 4, не пройдено: 1``)."""
    from ppe_tech.cameras.findings import status_label

    return ", ".join(
        _("{n} {status}").format(n=counts[s], status=status_label(s))
        for s in ("ok", "warning", "fail", "not-verified")
        if counts.get(s)
    )


def _selection_label(selection: str) -> str:
    """A run's stored selection (``all``, ``zone:corridor``, ``a,b;zone:corridor``) as printed."""
    ids, _sep, zone = selection.partition("zone:")
    ids = ids.rstrip(";")
    if ids == "all":
        return _("all")
    zone_text = _("zone {zone}").format(zone=zone_label(zone)) if zone else ""
    return "; ".join(part for part in (ids, zone_text) if part)


def _snapshot_dir(run: dict) -> str:
    shots = [c["snapshot"] for c in run["cameras"] if c["snapshot"]]
    return str(Path(shots[0]).parent) if shots else "-"


def _busy_line(run) -> str | None:
    """The summary line when this machine was too busy to judge some cameras."""
    from ppe_tech.cameras.verify import overloaded

    busy = overloaded(run)
    if not busy:
        return None
    return ngettext(
        "this machine was too busy to judge {n} camera ({ids}): close other programs or lower "
        "`cameras.parallel`",
        "this machine was too busy to judge {n} cameras ({ids}): close other programs or lower "
        "`cameras.parallel`",
        len(busy),
    ).format(n=len(busy), ids=", ".join(busy))


@cameras.command("verify")
@zone_option()
@click.option(
    "--camera", "camera_ids", multiple=True, metavar="ID", help="Only this camera (repeatable)."
)
@exam_option()
@click.option(
    "--sample",
    type=Between(0, 600, unit="seconds", low_open=True),
    default=None,
    metavar="SECONDS",
    help="How long to watch each camera (default: cameras.sample of ppe.yaml, 3 s).",
)
@click.option(
    "--parallel",
    type=click.IntRange(1, 64),
    default=None,
    metavar="N",
    help="Cameras decoding at once (default: cameras.parallel, else two per core).",
)
@click.option(
    "--responsible",
    metavar="PERSON",
    help='Responsible person of the PAK journal entry: a staff role or "Name, position" '
    "(default: the staff role video, else nobody).",
)
@wait_option("camera verification")
@json_option
@pass_app
def verify(
    app: App, *, zone, camera_ids, exam_id, sample, parallel, responsible, wait, as_json
) -> None:
    """Check the selected cameras at once: stream, fps, resolution, picture against the reference.

    Exit code 0 when no camera fails (warnings allowed), 1 when one does, 6 when none fails
    but this machine was too busy to judge some (checker_overloaded).
    """
    from ppe_tech.cameras.verify import run_verification, select_cameras

    site = app.site
    hold_run_lock(site, "cameras", _("camera verification"), wait)
    exam = app.exam(exam_id, check=True)
    chosen = select_cameras(site, camera_ids, zone)
    progress = _Progress([c.id for c in chosen]) if progress_enabled() and not as_json else None
    options = {
        "exam_id": exam.id if exam else None,
        "sample": sample,
        "parallel": parallel,
        "responsible": responsible,
    }
    with progress or contextlib.nullcontext():
        run = run_verification(site, app.db, camera_ids, zone, on_event=progress, **options)
    busy = _busy_line(run)
    if as_json:
        print_json(run.to_json())
    else:
        _print_run(run.to_json())
    if busy:
        echo_warning(busy)
    if run.counts.get("fail"):
        raise SystemExit(int(ExitCode.FAILED))
    if busy:
        raise SystemExit(int(ExitCode.WARNING))


@cameras.command("reference")
@click.option(
    "--camera", "camera_ids", multiple=True, metavar="ID", help="Only this camera (repeatable)."
)
@zone_option()
@click.option("--yes", is_flag=True, help="Do not ask; save every picture captured.")
@json_option
@pass_app
def reference(app: App, camera_ids, zone, yes, as_json) -> None:
    """Save the approved reference picture (references/ID.png) from the live source.

    A snapshot is written and its path printed first; at a terminal you are asked to
    confirm after looking at it (--yes skips the question).
    """
    from ppe_tech.cameras.verify import capture_references, select_cameras, write_reference

    site = app.site
    entries = capture_references(site, select_cameras(site, camera_ids, zone))
    ask = sys.stdin.isatty() and not yes and not as_json
    for entry in entries:
        png = entry.pop("reference_png")
        if entry["status"] == "failed":
            continue
        if not as_json:
            click.echo(
                _("{camera}: snapshot {path}").format(camera=entry["id"], path=entry["snapshot"])
            )
        if ask and not confirm(
            _("Use this picture as the reference of {camera}?").format(camera=entry["id"])
        ):
            entry["status"] = "skipped"
        else:
            entry.update(status="saved", reference=write_reference(site, entry["id"], png))
    if as_json:
        print_json({"cameras": entries})
    else:
        for entry in entries:
            click.echo(_reference_line(entry))
    if any(e["status"] == "failed" for e in entries):
        raise SystemExit(int(ExitCode.FAILED))


def _reference_line(entry: dict) -> str:
    camera = entry["id"]
    if entry["status"] == "saved":
        return _("{camera}: reference saved to {path}").format(
            camera=camera, path=entry["reference"]
        )
    if entry["status"] == "skipped":
        return _("{camera}: reference not changed").format(camera=camera)
    why = "; ".join(_finding_line(f) for f in entry["findings"]) or _("no picture")
    return _("{camera}: no picture captured ({why})").format(camera=camera, why=why)


@cameras.command("list")
@json_option
@pass_app
def list_(app: App, as_json: bool) -> None:
    """List the cameras of ppe.yaml, with their reference picture and last verdict."""
    from rich.table import Table

    from ppe_tech.cameras.results import overview

    rows = overview(app.site, app.db)
    if as_json:
        print_json({"cameras": rows})
        return
    from ppe_tech.cameras.findings import code_label, status_label

    table = Table()
    columns = (_("camera"), _("zone"), _("room"), _("source"), _("reference"), _("last verdict"))
    for column in columns:
        table.add_column(column, overflow="fold")
    for r in rows:
        last = "-"
        if r["last_status"]:
            style = STATUS_STYLE[r["last_status"]]
            found = ", ".join(code_label(c) for c in r["last_findings"])
            codes = f" ({found})" if found else ""
            run = _("run {run}").format(run=r["last_run"])
            last = f"[{style}]{status_label(r['last_status'])}[/]{codes} {run}"
        none = _("none")
        reference = _("yes") if r["reference"] else f"[yellow]{none}[/]"
        table.add_row(
            r["id"], zone_label(r["zone"]), safe(r["room"]), safe(r["source"]), reference, last
        )
    stdout_console().print(table)


@cameras.command("show")
@click.argument("run_ref", default="latest", metavar="RUN")
@json_option
@pass_app
def show(app: App, run_ref: str, as_json: bool) -> None:
    """Show one stored verification: RUN is a run number or latest (the default); all lists
    the stored runs, newest first."""
    from ppe_tech.cameras.results import list_runs, load_run

    if run_ref == "all":
        runs = list_runs(app.db)
        if as_json:
            print_json({"runs": runs})
            return
        from ppe_tech.cameras.findings import status_label

        for r in runs:
            status = status_label(r["status"]) if r["status"] else "-"
            finished = r["finished_at"] or _("unfinished")
            click.echo(
                f"{r['run_id']:>5}  {finished}  {r['exam_id'] or '-'}  "
                f"{_selection_label(r['selection'])}  {status}  {_counts(r['counts'])}"
            )
        return
    run = load_run(app.db, run_ref, folder=app.site.folder).to_json()
    if as_json:
        print_json(run)
    else:
        _print_run(run)


@cameras.command("discover")
@click.option(
    "--timeout",
    type=Between(0, 60, unit="seconds", low_open=True),
    default=3.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to listen for answers.",
)
@click.option(
    "--address",
    metavar="IP",
    help="Search from this local address only (default: every interface).",
)
@click.option(
    "--user",
    metavar="NAME",
    help="ONVIF user for asking stream URIs (password from $ONVIF_PASSWORD).",
)
@json_option
@pass_app
def discover(
    app: App, timeout: float, address: str | None, user: str | None, as_json: bool
) -> None:
    """Find ONVIF cameras on the local network (WS-Discovery) and their stream URIs.

    ppe.yaml stays the source of truth: copy what you need into it.
    """
    import os

    from ppe_tech.cameras.discover import discover_cameras
    from ppe_tech.site import mask_url, redact_data

    password = os.environ.get("ONVIF_PASSWORD")
    devices = discover_cameras(timeout=timeout, address=address, user=user, password=password)
    devices = redact_data(
        devices, lambda text: mask_url(text.replace(password, "***") if password else text)
    )
    if as_json:
        print_json({"devices": devices})
        return
    if not devices:
        click.echo(_("no ONVIF device answered within {seconds}s").format(seconds=f"{timeout:g}"))
        return
    for d in devices:
        click.echo(f"{d['address']}  {d.get('name') or '-'}  {d.get('hardware') or '-'}")
        for xaddr in d["xaddrs"]:
            click.echo("    " + _("service: {url}").format(url=xaddr))
        for uri in d.get("stream_uris", []):
            click.echo("    " + _("stream: {url}").format(url=uri))
