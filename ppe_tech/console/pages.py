"""The console's pages (GET routes): each reads through ``data`` and renders one template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.responses import FileResponse, Response

from ppe_tech.console import data
from ppe_tech.errors import ConfigError
from ppe_tech.i18n import _
from ppe_tech.timeutil import utc_now


def camera_tiles(console) -> list[dict[str, Any]]:
    """One tile per configured camera: the newest verdict and the newest picture, each timed."""
    stored = data.stored_camera_results(console.site, console.db())
    tiles = []
    for cam in console.site.config.cameras:
        tiles.append(_tile(console, cam, stored.get(cam.id), console.looks.get(cam.id)))
    return tiles


def _tile(console, cam, stored: dict | None, look) -> dict[str, Any]:
    verdicts = []
    if stored:
        verdicts.append((stored["finished_at"], stored["status"], stored["findings"]))
    if look:
        verdicts.append((look.at, look.status, look.findings))
    checked_at, status, findings = (
        max(verdicts, key=lambda v: v[0]) if verdicts else (None, "unknown", [])
    )
    pictures = [
        t
        for t in (
            (stored or {}).get("snapshot") and stored["finished_at"],
            look.jpeg_at if look else None,
        )
        if t
    ]
    picture_at = max(pictures) if pictures else None
    age = data.age_seconds(picture_at)
    return {
        "id": cam.id,
        "zone": cam.zone,
        "room": cam.room,
        "status": status,
        "findings": [
            {"code": f.get("code"), "message": console.site.redact(str(f.get("message", "")))}
            for f in findings
        ],
        "checked_at": checked_at,
        "picture_at": picture_at,
        "age": age,
        "stale": age is None or age > console.settings.stale_after,
    }


def overview(console, ctx, error: str | None = None, status: int = 200):
    site, conn = console.site, console.db()
    clock = data.exam_clock(site)
    tiles = camera_tiles(console)
    rec = recordings_of(console, None)
    counts: dict[str, int] = {}
    for tile in tiles:
        counts[tile["status"]] = counts.get(tile["status"], 0) + 1
    alerts = [a.to_json() for a in console.hub.latest(10)]
    stored_alerts = data.recent_recording_alerts(conn, 10)[::-1]
    return console.render(
        ctx,
        "overview.html",
        status=status,
        error=error,
        clock=clock.to_json(),
        now=utc_now().isoformat(),
        rooms=data.rooms_readiness(site, conn),
        tiles=tiles,
        counts=counts,
        rec=rec,
        alerts=alerts,
        stored_alerts=stored_alerts,
        stale_after=console.settings.stale_after,
    )


def rooms(console, ctx, error: str | None = None, status: int = 200):
    site = console.site
    return console.render(
        ctx,
        "rooms.html",
        status=status,
        error=error,
        rooms=data.rooms_readiness(site, console.db()),
        exam=data.readiness_exam(site),
    )


def confirm_station(console, ctx, error: str | None = None, status: int = 200):
    station, items = data.station_questions(console.site, ctx.request.path_params["station_id"])
    return console.render(
        ctx,
        "confirm.html",
        status=status,
        error=error,
        station=station,
        items=items,
        form=ctx.form,
        exam=data.readiness_exam(console.site),
    )


def cameras(console, ctx, error: str | None = None, status: int = 200):
    job = console.verifications.current
    return console.render(
        ctx,
        "cameras.html",
        status=status,
        error=error,
        tiles=camera_tiles(console),
        stale_after=console.settings.stale_after,
        now=utc_now().isoformat(),
        job=job.to_json() if job else None,
    )


def verify_progress(console, ctx, error: str | None = None, status: int = 200):
    job = console.verifications.current
    return console.render(ctx, "_progress.html", job=job.to_json() if job else None)


def snapshot(console, ctx, error: str | None = None, status: int = 200) -> Response:
    """The newest picture of a camera (logged-in users only, like every page)."""
    camera_id = ctx.request.path_params["camera_id"]
    console.site.camera(camera_id)  # unknown camera: ConfigError
    look = console.looks.get(camera_id)
    stored = data.stored_camera_results(console.site, console.db()).get(camera_id)
    stored_file = _stored_snapshot(console, stored)
    headers = {"Cache-Control": "no-store"}
    if look and look.jpeg and (stored_file is None or look.jpeg_at > stored["finished_at"]):
        return Response(look.jpeg, media_type="image/jpeg", headers=headers)
    if stored_file is None:
        raise ConfigError(_("no picture of {camera} yet").format(camera=camera_id))
    return FileResponse(stored_file, media_type="image/jpeg", headers=headers)


def _stored_snapshot(console, stored: dict | None) -> Path | None:
    if not stored or not stored.get("snapshot"):
        return None
    path = Path(stored["snapshot"]).resolve()
    folder = console.site.snapshots_dir.resolve()
    return path if path.is_relative_to(folder) and path.is_file() else None


RECORDINGS_TTL_S = 5.0  # a view walks the whole recording root; the watch's alerts are live


def recordings_of(console, exam):
    """The recordings view of ``exam`` (None: the latest started), at most a few seconds old."""
    exam = exam or data.window_exam(console.site, None)
    key = f"recordings:{exam.id if exam else ''}"
    return console.cached(
        key, RECORDINGS_TTL_S, lambda: data.recordings_view(console.site, console.db(), exam)
    )


def recordings(console, ctx, error: str | None = None, status: int = 200):
    site = console.site
    exam = data.window_exam(site, ctx.param("exam") or None)
    rec = recordings_of(console, exam)
    return console.render(
        ctx,
        "recordings.html",
        status=status,
        error=error,
        rec=rec,
        exams=site.config.exams,
        chosen=exam.id if exam else "",
        alerts=data.recent_recording_alerts(console.db(), 20)[::-1],
    )


def pak(console, ctx, error: str | None = None, status: int = 200, notice: str | None = None):
    site, conn = console.site, console.db()
    return console.render(
        ctx,
        "pak.html",
        status=status,
        error=error,
        notice=notice,
        rows=data.journal(conn),
        actions=data.pak_actions(),
        open_actions=data.open_actions(conn),
        staff=site.config.staff,
        findings=data.pak_audit(site, conn),
        verdict=data.pak_verify(site, conn),
        checkpoint=data.pak_latest_checkpoint(conn),
        form=ctx.form,
    )


def checklist(console, ctx, error: str | None = None, status: int = 200):
    site = console.site
    started = sorted(console.runs.runs.values(), key=lambda r: -r.number)
    return console.render(
        ctx,
        "checklist.html",
        status=status,
        error=error,
        names=data.checklist_names(site),
        exams=site.config.exams,
        today=data.exam_clock(site).exam,
        started=started,
        runs=data.checklist_runs(console.db())[::-1][:20],
    )


def checklist_run(console, ctx, error: str | None = None, status: int = 200):
    run = console.runs.get(ctx.request.path_params["number"])
    stored = data.checklist_run(console.db(), run.stored_id) if run.stored_id else None
    template = "_run.html" if "hx-request" in ctx.request.headers else "checklist_run.html"
    return console.render(
        ctx, template, status=status, error=error, run=run, items=run.checklist.items, stored=stored
    )


def reports(console, ctx, error: str | None = None, status: int = 200, checked: dict | None = None):
    return console.render(
        ctx,
        "reports.html",
        status=status,
        error=error,
        reports=data.reports(console.db()),
        kinds=data.REPORT_KINDS,
        exams=console.site.config.exams,
        checked=checked,
    )


def report_file(console, ctx, error: str | None = None, status: int = 200) -> Response:
    number = ctx.request.path_params["number"]
    path = data.report_file(console.site, console.db(), number)
    if not path.is_file():
        raise ConfigError(
            _("report {number}: its file {file} is not in the site any more").format(
                number=number, file=path.name
            )
        )
    return FileResponse(path, media_type="application/pdf", filename=path.name)


def login(console, ctx, error: str | None = None, status: int = 200):
    return console.render(ctx, "login.html", status=status, error=error)
