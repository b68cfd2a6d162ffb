"""``ppe-tech cameras``: Verify camera streams and judge the picture against the approved reference."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ppe_tech.cli.common import (
    App,
    Between,
    confirm,
    exam_option,
    hold_run_lock,
    json_option,
    pass_app,
    print_json,
    progress_enabled,
    safe,
    stdout_console,
    wait_option,
    zone_option,
)
from ppe_tech.errors import ExitCode
from ppe_tech.i18n import _

STATUS_STYLE = {"ok": "green", "warning": "yellow", "fail": "red"}


@click.group()
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

        table = Table(box=None, show_header=False)
        for cam, (phase, detail) in self.state.items():
            style = STATUS_STYLE.get(phase, "cyan")
            table.add_row(cam, f"[{style}]{phase}[/]", detail)
        return table

    def __call__(self, camera_id: str, phase: str, data: dict) -> None:
        if phase == "done":
            codes = ", ".join(f["code"] for f in data.get("findings", []))
            severities = {f.get("severity", "fail") for f in data.get("findings", [])}
            status = "fail" if "fail" in severities else "warning" if severities else "ok"
            self.state[camera_id] = (status, codes)
        elif phase == "reading" and "frames" in data:
            self.state[camera_id] = ("reading", f"{data['frames']} frames")
        else:
            self.state[camera_id] = (phase, "")
        self.live.update(self._table())

    def __enter__(self):
        self.live.__enter__()
        return self

    def __exit__(self, *exc):
        return self.live.__exit__(*exc)


def _print_run(run: dict) -> None:
    from rich.table import Table

    console = stdout_console()
    exam = run["exam_id"] or "no exam"
    table = Table(
        title=f"Camera verification {run['run_id']} ({exam}, {run['finished_at']})",
        title_justify="left",
    )
    for column in ("camera", "zone", "status", "fps", "size", "findings", "snapshot"):
        table.add_column(column, overflow="fold")
    for cam in run["cameras"]:
        m = cam["metrics"]
        style = STATUS_STYLE[cam["status"]]
        size = f"{m['width']}x{m['height']}" if "width" in m else "-"
        findings = "\n".join(f"{f['code']}: {safe(f['message'])}" for f in cam["findings"]) or "-"
        table.add_row(cam["id"], cam["zone"], f"[{style}]{cam['status']}[/]", str(m.get("fps", "-")), size,
                      findings, Path(cam["snapshot"]).name if cam["snapshot"] else "-")  # fmt: skip
    console.print(table)
    counts = run["counts"]
    summary = ", ".join(f"{counts[s]} {s}" for s in ("ok", "warning", "fail") if counts.get(s))
    verdict = "[red]FAILED[/]" if counts.get("fail") else "[green]PASSED[/]"
    console.print(
        f"{verdict}  {len(run['cameras'])} cameras: {summary}; snapshots in {_snapshot_dir(run)}"
    )


def _snapshot_dir(run: dict) -> str:
    shots = [c["snapshot"] for c in run["cameras"] if c["snapshot"]]
    return str(Path(shots[0]).parent) if shots else "-"


@cameras.command("verify")
@zone_option()
@click.option(
    "--camera", "camera_ids", multiple=True, metavar="ID", help="Only this camera (repeatable)."
)
@exam_option()
@click.option("--sample", type=Between(0, 600, unit="seconds", low_open=True), default=3.0, show_default=True, metavar="SECONDS",
              help="How long to watch each camera.")  # fmt: skip
@wait_option("camera verification")
@json_option
@pass_app
def verify(app: App, zone, camera_ids, exam_id, sample, wait, as_json) -> None:
    """Check the selected cameras at once: stream, fps, resolution, picture against the reference.

    Exit code 0 when no camera fails (warnings allowed), 1 when one does.
    """
    from ppe_tech.cameras.verify import run_verification, select_cameras
    from ppe_tech.timeutil import utc_now

    site = app.site
    hold_run_lock(site, "cameras", "camera verification", wait)
    exam = site.select_exam(exam_id, utc_now())
    chosen = select_cameras(site, camera_ids, zone)
    progress = _Progress([c.id for c in chosen]) if progress_enabled() and not as_json else None
    if progress:
        with progress:
            run = run_verification(
                site, app.db, camera_ids, zone, exam.id if exam else None, sample, progress
            )
    else:
        run = run_verification(site, app.db, camera_ids, zone, exam.id if exam else None, sample)
    if as_json:
        print_json(run)
    else:
        _print_run(run)
    if any(c["status"] == "fail" for c in run["cameras"]):
        raise SystemExit(int(ExitCode.FAILED))


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
    from ppe_tech.cameras.verify import select_cameras, verify_cameras, write_reference
    from ppe_tech.fsutil import atomic_write_bytes
    from ppe_tech.timeutil import utc_now

    site = app.site
    chosen = select_cameras(site, camera_ids, zone)
    results = verify_cameras(site, chosen, sample=1.0, mode="reference")
    stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
    out, failed = [], False
    ask = sys.stdin.isatty() and not yes and not as_json
    for r in results:
        entry = {"id": r["id"], "status": "saved", "snapshot": None, "reference": None,
                 "findings": r["findings"]}  # fmt: skip
        if not r.get("reference_png"):
            entry["status"] = "failed"
            failed = True
            out.append(entry)
            continue
        snapshot = site.file_in("snapshots", f"reference-{stamp}-{r['id']}.jpg")
        atomic_write_bytes(snapshot, r["snapshot_jpeg"])
        entry["snapshot"] = str(snapshot)
        if not as_json:
            click.echo(f"{r['id']}: snapshot {snapshot}")
        if ask and not confirm(
            _("Use this picture as the reference of {camera}?").format(camera=r["id"])
        ):
            entry["status"] = "skipped"
        else:
            entry["reference"] = write_reference(site, r["id"], r["reference_png"])
        out.append(entry)
    if as_json:
        print_json({"cameras": out})
    else:
        for entry in out:
            if entry["status"] == "saved":
                click.echo(f"{entry['id']}: reference saved to {entry['reference']}")
            elif entry["status"] == "skipped":
                click.echo(f"{entry['id']}: reference not changed")
            else:
                why = (
                    "; ".join(f"{f['code']}: {f['message']}" for f in entry["findings"])
                    or "no picture"
                )
                click.echo(f"{entry['id']}: no picture captured ({why})")
    if failed:
        raise SystemExit(int(ExitCode.FAILED))


@cameras.command("list")
@json_option
@pass_app
def list_(app: App, as_json: bool) -> None:
    """List the cameras of ppe.yaml, with their reference picture and last verdict."""
    from rich.table import Table

    from ppe_tech.cameras.results import latest_results

    site = app.site
    latest = latest_results(app.db)
    rows = []
    for cam in site.config.cameras:
        ref = site.references_dir / f"{cam.id}.png"
        last = latest.get(cam.id)
        rows.append({
            "id": cam.id, "zone": cam.zone, "room": cam.room, "source": site.redact(cam.source),
            "expect": cam.expect.model_dump(exclude_none=True),
            "reference": str(ref) if ref.is_file() else None,
            "last_status": last["status"] if last else None,
            "last_run": last["run_id"] if last else None,
            "last_findings": [f["code"] for f in last["findings"]] if last else [],
        })  # fmt: skip
    if as_json:
        print_json({"cameras": rows})
        return
    table = Table()
    for column in ("camera", "zone", "room", "source", "reference", "last verdict"):
        table.add_column(column, overflow="fold")
    for r in rows:
        last = "-"
        if r["last_status"]:
            style = STATUS_STYLE[r["last_status"]]
            codes = f" ({', '.join(r['last_findings'])})" if r["last_findings"] else ""
            last = f"[{style}]{r['last_status']}[/]{codes} run {r['last_run']}"
        table.add_row(
            r["id"],
            r["zone"],
            safe(r["room"]),
            safe(r["source"]),
            "yes" if r["reference"] else "[yellow]none[/]",
            last,
        )
    stdout_console().print(table)


@cameras.command("show")
@click.argument("run_ref", default="latest", metavar="RUN")
@json_option
@pass_app
def show(app: App, run_ref: str, as_json: bool) -> None:
    """Show one stored verification (a run number, or latest)."""
    from ppe_tech.cameras.results import list_runs, load_run

    if run_ref == "all":
        runs = list_runs(app.db)
        if as_json:
            print_json({"runs": runs})
        else:
            for r in runs:
                counts = ", ".join(f"{n} {s}" for s, n in sorted(r["counts"].items()))
                click.echo(f"{r['run_id']:>5}  {r['finished_at'] or 'unfinished'}  {r['exam_id'] or '-'}  "
                           f"{r['selection']}  {r['status'] or '-'}  {counts}")  # fmt: skip
        return
    run = load_run(app.db, run_ref)
    if as_json:
        print_json(run)
    else:
        _print_run(run)


@cameras.command("discover")
@click.option("--timeout", type=Between(0, 60, unit="seconds", low_open=True), default=3.0, show_default=True, metavar="SECONDS",
              help="How long to listen for answers.")  # fmt: skip
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
    from ppe_tech.site import mask_url

    password = os.environ.get("ONVIF_PASSWORD")
    devices = discover_cameras(timeout=timeout, address=address, user=user, password=password)

    def clean(value):
        if isinstance(value, str):
            return mask_url(value.replace(password, "***") if password else value)
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    devices = [{k: clean(v) for k, v in d.items()} for d in devices]
    if as_json:
        print_json({"devices": devices})
        return
    if not devices:
        click.echo(f"no ONVIF device answered within {timeout:g}s")
        return
    for d in devices:
        click.echo(f"{d['address']}  {d.get('name') or '-'}  {d.get('hardware') or '-'}")
        for xaddr in d["xaddrs"]:
            click.echo(f"    service: {xaddr}")
        for uri in d.get("stream_uris", []):
            click.echo(f"    stream:  {uri}")
