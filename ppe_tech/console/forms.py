"""The console's forms (POST routes). The guard has checked the session and the CSRF token;
each form calls one library function through ``data`` and redirects to its page. When the
library refuses the input it raises ``PpeError`` before writing anything, and the guard
shows the page again with that one line."""

from __future__ import annotations

from starlette.responses import RedirectResponse

from ppe_tech.console import data, pages, security
from ppe_tech.errors import ConfigError
from ppe_tech.i18n import _


def _back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def verify_cameras(console, ctx):
    chosen = ctx.form.get("camera", "").strip()
    console.verifications.start([chosen] if chosen else [])
    return _back("/cameras")


def confirm_station(console, ctx):
    station_id = ctx.request.path_params["station_id"]
    run_id = data.confirm_station(console.site, console.db(), station_id, ctx.form)
    return _back(f"/rooms?confirmed={run_id}#station-{station_id}")


def pak_add(console, ctx):
    entry = data.pak_add(console.site, console.db(), ctx.form, kind="action")
    return _back(f"/pak#entry-{entry['seq']}")


def pak_start(console, ctx):
    entry = data.pak_add(console.site, console.db(), ctx.form, kind="start")
    return _back(f"/pak#entry-{entry['seq']}")


def pak_end(console, ctx):
    entry = data.pak_end(console.site, console.db(), ctx.form)
    return _back(f"/pak#entry-{entry['end_of']}")


def pak_checkpoint(console, ctx):
    data.pak_make_checkpoint(console.site, console.db())
    return _back("/pak#checkpoint")


def checklist_start(console, ctx):
    run = console.runs.start(
        ctx.form.get("checklist", ""), ctx.form.get("exam", "").strip() or None
    )
    return _back(f"/checklist/run/{run.number}")


def checklist_answer(console, ctx):
    run = console.runs.get(ctx.request.path_params["number"])
    item_id = ctx.form.get("item", "")
    run.give(item_id, data.answer(ctx.form.get("answer", ""), ctx.form.get("comment", ""), run.by))
    return _back(f"/checklist/run/{run.number}")


def checklist_stop(console, ctx):
    run = console.runs.get(ctx.request.path_params["number"])
    run.leave_unanswered()
    return _back(f"/checklist/run/{run.number}")


def report_make(console, ctx):
    data.report_make(console.site, console.db(), ctx.form)
    return _back("/reports")


def report_verify(console, ctx):
    number = ctx.form.get("number", "")
    result = data.report_verify(console.site, console.db(), number)
    return pages.reports(console, ctx, checked={"number": number, **result})


def login(console, ctx):
    client = ctx.request.client.host if ctx.request.client else "?"
    sessions = console.sessions
    if sessions.throttled(client):
        raise ConfigError(_("too many failed logins: wait a few minutes and try again"))
    given = ctx.form.get("secret", "")
    if not (sessions.code_matches(given) or security.passphrase_ok(console.site, given)):
        sessions.failed(client)
        raise ConfigError(_("wrong passphrase or code"))
    ctx.session = sessions.log_in(ctx.session)
    response = _back("/")
    response.headers["x-new-session"] = "1"
    return response


def logout(console, ctx):
    console.sessions.log_out(ctx.session)
    return _back("/login")
