"""``ppe-tech serve``: the exam-day console in a browser (Starlette on uvicorn, loaded lazily)."""

from __future__ import annotations

import ipaddress
import socket

import click

from ppe_tech.cli.common import App, pass_app
from ppe_tech.errors import ConfigError
from ppe_tech.i18n import _

DEFAULT_PORT = 8765


def _seconds(option: str, text: str) -> float:
    from ppe_tech.timeutil import parse_duration

    try:
        return parse_duration(text).total_seconds()
    except ValueError as exc:
        raise ConfigError(_("{option}: {reason}").format(option=option, reason=exc)) from None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _cert_hosts(host: str) -> list[str]:
    """Names the console's certificate must carry: the bound address, this machine's name."""
    hosts = [] if host in ("0.0.0.0", "::") else [host]
    name = socket.gethostname()
    hosts.append(name)
    try:
        hosts.append(socket.gethostbyname(name))
    except OSError:
        pass
    return list(dict.fromkeys(hosts))


@click.command()
@click.option(
    "--host", default=None, help="Address to bind (default 127.0.0.1; with --lan 0.0.0.0)."
)
@click.option(
    "--port",
    default=DEFAULT_PORT,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.option("--lan", is_flag=True, help="Serve the point's network: HTTPS only, login required.")
@click.option(
    "--check-every",
    default="2m",
    show_default=True,
    help="Light check of every camera this often (0 for none).",
)
@click.option(
    "--stale-after",
    default="4m",
    show_default=True,
    help="A camera picture older than this is shown stale.",
)
@click.option(
    "--session",
    "session_ttl",
    default="8h",
    show_default=True,
    help="A login expires after this long unused (--lan).",
)
@click.option("--no-watch", is_flag=True, help="Do not run the recording watch.")
@pass_app
def serve(app: App, *, host, port, lan, check_every, stale_after, session_ttl, no_watch) -> None:
    """Run the console: the whole point live in a browser.

    Plain HTTP only on 127.0.0.1. --lan serves HTTPS with a certificate issued by the
    site's own key and asks for the technician's key passphrase or the one-time code
    printed here.
    """
    host = host or ("0.0.0.0" if lan else "127.0.0.1")
    if not lan and not _loopback(host):
        raise ConfigError(
            _(
                "--host {host}: plain HTTP is served on 127.0.0.1 only; "
                "use --lan for the point's network"
            ).format(host=host)
        )
    settings = _settings(
        lan=lan,
        check_every=check_every,
        stale_after=stale_after,
        session_ttl=session_ttl,
        no_watch=no_watch,
    )
    _run(app.site, settings, host, port)


def _settings(*, lan, check_every, stale_after, session_ttl, no_watch):
    from ppe_tech.console.app import Settings
    from ppe_tech.console.security import new_code

    return Settings(
        lan=lan,
        check_every=_seconds("--check-every", check_every),
        stale_after=_seconds("--stale-after", stale_after),
        session_ttl=_seconds("--session", session_ttl),
        watch=not no_watch,
        one_time_code=new_code() if lan else None,
    )


def _run(site, settings, host: str, port: int) -> None:
    import uvicorn

    from ppe_tech.console.app import create_app
    from ppe_tech.console.security import console_certificate

    tls = {}
    if settings.lan:
        cert, key = console_certificate(site, _cert_hosts(host))
        tls = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    scheme = "https" if settings.lan else "http"
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(f"ppe-tech console: {scheme}://{shown}:{port}/ (Ctrl-C to stop)", err=True)
    if settings.one_time_code:
        click.echo(f"one-time login code: {settings.one_time_code}", err=True)
    uvicorn.run(create_app(site, settings), host=host, port=port, log_level="warning", **tls)
