"""The console's Starlette application: its state, the guard every route passes, the routes.

``create_app(site, settings)`` is what ``ppe-tech serve`` runs and what the tests drive
with Starlette's TestClient. Each route is a plain function ``(console, ctx) -> Response``
run in a worker thread (the library calls block); ``_guarded`` gives it the session, the
parsed form (after the CSRF check) and the language.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ppe_tech.console import i18n, live, security
from ppe_tech.console.runs import PageRuns
from ppe_tech.errors import PpeError

HERE = Path(__file__).resolve().parent
LANG_COOKIE = "ppe_lang"
SSE_POLL_S = 0.2  # how often the event stream looks for new alerts
SSE_HEARTBEAT_S = 15.0
MAX_RESULT_BYTES = 1024 * 1024  # a station result file is a few kB


@dataclass
class Settings:
    lan: bool = False
    check_every: float = 120.0  # seconds between light camera checks (0: none)
    stale_after: float = 240.0  # a snapshot older than this is shown stale, never live
    session_ttl: float = 8 * 3600.0
    watch: bool = True  # run the recording watch
    watch_interval: float = (
        0.5  # the watch looks at its events this often: alert -> page well under 1 s
    )
    one_time_code: str | None = None


@dataclass
class Ctx:
    """What a route gets besides the console: the request, its session, form, language."""

    request: Request
    session: security.Session
    form: dict[str, str]
    lang: str

    def param(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default)


class Console:
    def __init__(self, site, settings: Settings):
        from ppe_tech.store import connect

        self.site, self.settings = site, settings
        self._connect = lambda: connect(site.db_path)
        self._local = threading.local()
        self.hub = live.AlertHub(site.redact)
        self.looks = live.CameraLooks(site, self.hub, interval=settings.check_every or 1e9)
        self.verifications = live.Verifications(site, self._connect, self.hub)
        self.runs = PageRuns(site, self._connect)
        self.sessions = security.Sessions(
            ttl=settings.session_ttl,
            require_login=settings.lan,
            one_time_code=settings.one_time_code,
        )
        self.stop = threading.Event()
        # posted station results are stored by one thread on one connection: 40 stations at
        # once would otherwise open 40 connections and queue in SQLite's busy handler
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="station-results")
        self._cache: dict[str, tuple[float, Any]] = {}
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"])
        )
        self.env.filters.update(local=self.local_time, ago=_ago)

    def db(self):
        """This thread's connection to the store (SQLite connections stay in their thread)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def cached(self, key: str, seconds: float, compute):
        """``compute()``, remembered for ``seconds`` (views that walk the recording root)."""
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is None or now - hit[0] > seconds:
            hit = self._cache[key] = (now, compute())
        return hit[1]

    def local_time(self, moment: str | datetime | None, fmt: str = "%H:%M") -> str:
        if not moment:
            return "-"
        value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
        return value.astimezone(self.site.tz).strftime(fmt)

    def start_background(self) -> None:
        if self.settings.check_every:
            live.start_thread(self.looks.run, self.stop, name="camera-looks")
        if self.settings.watch:
            live.start_thread(
                live.run_recording_watch,
                self.site,
                self._connect,
                self.hub,
                self.stop,
                self.settings.watch_interval,
                name="recording-watch",
            )
        live.start_thread(
            live.run_deadline_watch,
            self.site,
            self._connect,
            self.hub,
            self.stop,
            name="deadline-watch",
        )

    def render(self, ctx: Ctx, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        page = self.env.get_template(template).render(
            w=i18n.words(ctx.lang),
            lang=ctx.lang,
            csrf=ctx.session.csrf,
            path=ctx.request.url.path,
            point=self.site.config.point,
            lan=self.settings.lan,
            logged_in=ctx.session.logged_in,
            last_alert=self.hub.last_id,
            **values,
        )
        return HTMLResponse(page, status_code=status)


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _lang(console: Console, request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return chosen if chosen in i18n.LANGS else console.site.config.point.language


def _refused(console: Console, ctx: Ctx, message: str, status: int) -> Response:
    return console.render(ctx, "message.html", status=status, message=message)


async def _read_form(request: Request) -> dict[str, str]:
    if request.method != "POST":
        return {}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _guarded(console: Console, handler, *, public: bool = False, page=None):
    """The endpoint for ``handler``: session, login, CSRF on POST, PpeError -> the page again.

    ``page`` renders the form's page with an error line when the library refuses the input
    (nothing was written: every library call validates before it writes).
    """

    async def endpoint(request: Request) -> Response:
        session = console.sessions.get(request.cookies.get(security.COOKIE))
        fresh = session is None
        session = session or console.sessions.new()
        ctx = Ctx(request, session, await _read_form(request), _lang(console, request))
        response = await run_in_threadpool(
            functools.partial(_answer, console, ctx, handler, public=public, page=page)
        )
        if fresh or "x-new-session" in response.headers:  # a login renews the session
            _set_cookie(console, response, ctx.session)
            if "x-new-session" in response.headers:
                del response.headers["x-new-session"]
        if "lang" in request.query_params and ctx.lang == request.query_params["lang"]:
            response.set_cookie(LANG_COOKIE, ctx.lang, samesite="strict", max_age=365 * 86400)
        return response

    return endpoint


def _answer(console: Console, ctx: Ctx, handler, *, public: bool, page) -> Response:
    if not public and not ctx.session.logged_in:
        if ctx.request.method == "GET" and "hx-request" not in ctx.request.headers:
            return RedirectResponse("/login", status_code=303)
        return _refused(console, ctx, "log in first", 401)
    if ctx.request.method == "POST":
        given = ctx.form.get(security.CSRF_FIELD) or ctx.request.headers.get(security.CSRF_HEADER)
        if not security.csrf_ok(ctx.session, given):
            return _refused(
                console,
                ctx,
                "this form has no valid CSRF token (reload the page and try again)",
                403,
            )
    try:
        return handler(console, ctx)
    except PpeError as exc:
        if page is None:
            return _refused(console, ctx, console.site.redact(exc.message), 400)
        return page(console, ctx, error=console.site.redact(exc.message), status=400)


def _set_cookie(console: Console, response: Response, session: security.Session) -> None:
    response.set_cookie(
        security.COOKIE,
        session.token,
        httponly=True,
        samesite="strict",
        secure=console.settings.lan,
        max_age=int(console.settings.session_ttl),
    )


async def _events(console: Console, request: Request) -> Response:
    """Server-sent events: every alert after ``after`` (default: from now), then live."""
    session = console.sessions.get(request.cookies.get(security.COOKIE))
    if session is None or not session.logged_in:
        return Response("log in first\n", status_code=401, media_type="text/plain")
    after = int(request.query_params.get("after", console.hub.last_id) or 0)
    limit = int(request.query_params.get("max", 0) or 0)  # for scripts: stop after N alerts

    async def stream():
        nonlocal after
        sent, quiet = 0, 0.0
        yield "retry: 1000\n\n"
        while not console.stop.is_set():
            for alert in console.hub.since(after):
                after = alert.id
                sent += 1
                payload = json.dumps(alert.to_json(), ensure_ascii=False)
                yield f"id: {alert.id}\nevent: alert\ndata: {payload}\n\n"
                if limit and sent >= limit:
                    return
            await asyncio.sleep(SSE_POLL_S)
            quiet += SSE_POLL_S
            if quiet >= SSE_HEARTBEAT_S:
                quiet = 0.0
                yield ": still here\n\n"
                if await request.is_disconnected():
                    return

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


async def _station_result(console: Console, request: Request) -> Response:
    """A station's signed result file (``station run --send``): no session, no CSRF token,
    because the file's own signature (a key enrolled on this site) is what is checked."""
    from ppe_tech.console import data

    body = await request.body()
    if len(body) > MAX_RESULT_BYTES:
        return JSONResponse(
            {"error": f"a result file is at most {MAX_RESULT_BYTES} bytes"}, status_code=413
        )
    client = request.client.host if request.client else "?"

    def receive() -> dict:
        return data.receive_station_result(console.site, console.db(), body, f"network {client}")

    try:
        answer = await asyncio.wrap_future(console.writer.submit(receive))
    except PpeError as exc:
        console.hub.publish("station_refused", f"result from {client} refused: {exc.message}")
        return JSONResponse({"error": console.site.redact(exc.message)}, status_code=400)
    if answer["status"] == "imported" and not answer["passed"]:
        failed = ", ".join(answer["failed_items"])
        console.hub.publish("station_failed", f"station {answer['station']} failed: {failed}")
    return JSONResponse(answer)


def _routes(console: Console) -> list:
    """Pages (GET) and forms (POST, each with the page shown again when its input is refused)."""
    from ppe_tech.console import forms, pages

    got = [
        ("/", pages.overview),
        ("/rooms", pages.rooms),
        ("/rooms/confirm/{station_id}", pages.confirm_station),
        ("/cameras", pages.cameras),
        ("/cameras/progress", pages.verify_progress),
        ("/snapshot/{camera_id}", pages.snapshot),
        ("/recordings", pages.recordings),
        ("/pak", pages.pak),
        ("/checklist", pages.checklist),
        ("/checklist/run/{number:int}", pages.checklist_run),
        ("/reports", pages.reports),
        ("/reports/file/{number}", pages.report_file),
    ]
    posted = [
        ("/rooms/confirm/{station_id}", forms.confirm_station, pages.confirm_station),
        ("/cameras/verify", forms.verify_cameras, pages.cameras),
        ("/pak/add", forms.pak_add, pages.pak),
        ("/pak/start", forms.pak_start, pages.pak),
        ("/pak/end", forms.pak_end, pages.pak),
        ("/pak/checkpoint", forms.pak_checkpoint, pages.pak),
        ("/checklist/start", forms.checklist_start, pages.checklist),
        ("/checklist/run/{number:int}/answer", forms.checklist_answer, pages.checklist_run),
        ("/checklist/run/{number:int}/stop", forms.checklist_stop, None),
        ("/reports/make", forms.report_make, pages.reports),
        ("/reports/verify", forms.report_verify, pages.reports),
        ("/logout", forms.logout, None),
    ]

    async def events(request: Request) -> Response:
        return await _events(console, request)

    async def station_result(request: Request) -> Response:
        return await _station_result(console, request)

    return [
        *(Route(path, _guarded(console, page)) for path, page in got),
        *(
            Route(path, _guarded(console, form, page=page), methods=["POST"])
            for path, form, page in posted
        ),
        Route("/login", _guarded(console, pages.login, public=True)),
        Route(
            "/login",
            _guarded(console, forms.login, public=True, page=pages.login),
            methods=["POST"],
        ),
        Route("/stations/result", station_result, methods=["POST"]),
        Route("/events", events),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]


def create_app(site, settings: Settings | None = None, *, background: bool = True) -> Starlette:
    """The console for ``site``; ``background`` starts the camera checks and the watch."""
    console = Console(site, settings or Settings())

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        if background:
            console.start_background()
        yield
        console.stop.set()
        console.writer.shutdown(wait=True)

    app = Starlette(routes=_routes(console), lifespan=lifespan)
    app.state.console = console
    return app
