"""What every command group shares: the site and store of this invocation, output helpers."""

from __future__ import annotations

import errno
import functools
import json
import sqlite3
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from ppe_tech.i18n import _, set_language, site_language

if TYPE_CHECKING:  # importing the site loads pydantic: keep `ppe-tech --help` fast
    from ppe_tech.site import Site


@dataclass
class App:
    """Per-invocation state, stored as click's context object."""

    site_dir: str | None = None
    debug: bool = False
    lang: str | None = None  # --lang of this command, if given
    _site: Site | None = field(default=None, repr=False)
    _db: sqlite3.Connection | None = field(default=None, repr=False)

    @property
    def site(self) -> Site:
        if self._site is None:
            from ppe_tech.site import open_site

            self._site = open_site(self.site_dir)
            set_language(self.lang or site_language(self._site.config.point.language))
        return self._site

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            from ppe_tech.store import connect

            self._db = connect(self.site.db_path)
        return self._db

    def redact(self, text: str) -> str:
        from ppe_tech.site import mask_url

        return self._site.redact(text) if self._site else mask_url(text)


pass_app = click.make_pass_decorator(App, ensure=True)

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def _use_lang(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        ctx.ensure_object(App).lang = value
        set_language(value)
    return value


def wait_option(what: str):
    """``--wait``: wait for another run of the same job instead of exiting 3."""
    return click.option("--wait", is_flag=True, help=f"Wait for another {what} to finish.")


def hold_run_lock(site: Site, name: str, what: str, wait: bool) -> None:
    """Hold the job's run lock (ppe_tech.runlock) until the command ends."""
    from ppe_tech.runlock import run_lock

    lock = run_lock(site.folder, name, what=what, wait=wait, tz=site.tz)
    click.get_current_context().with_resource(lock)


def lang_option(what: str = "Language"):
    """``--lang ru|en``: the command's output and documents; unset means ``$PPE_LANG``, else
    the site's ``point.language``."""
    return click.option(
        "--lang",
        type=click.Choice(["ru", "en"]),
        callback=_use_lang,
        help=f"{what} (default: $PPE_LANG, else the site's).",
    )


def confirm(question: str) -> bool:
    """Ask a yes/no question on stderr; yes/y/да/д and no/n/нет/н are understood (Enter: no)."""
    from ppe_tech.words import yes_or_no

    while True:
        choices = _("y/N")
        word = click.prompt(f"{question} [{choices}]", default="", show_default=False, err=True)
        verdict = yes_or_no(word) if word else False
        if verdict is not None:
            return verdict
        click.echo(_("answer yes or no"), err=True)


def zone_label(zone: str | None) -> str:
    """A camera zone as printed: the code in English, in words in Russian."""
    labels = {
        "auditorium": _("auditorium"),
        "corridor": _("corridor"),
        "entrance": _("entrance"),
        "staff-room": _("staff-room"),
    }
    return "?" if zone is None else labels.get(zone, zone)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


# every control character but newline and tab (so no escape sequence reaches the terminal:
# ESC, CSI, OSC, BEL), C1 controls, and the bidirectional overrides that reorder what a reader
# sees ("Trojan source"): each shown as a visible escape, so an auditor sees it was there
_VISIBLE_CONTROLS = {
    i: f"\\x{i:02x}" for i in (*range(0x00, 0x20), *range(0x7F, 0xA0)) if chr(i) not in "\n\t"
} | {i: f"\\u{i:04x}" for i in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def safe(value: Any) -> str:
    """Stored or measured text made safe to print through rich: never read as markup
    (``[/]`` is just text), control characters shown as ``\\x1b``, never sent raw."""
    from rich.markup import escape

    return escape(("" if value is None else str(value)).translate(_VISIBLE_CONTROLS))


@functools.cache
def _console_class():
    from rich.console import Console

    class PpeConsole(Console):
        def on_broken_pipe(self) -> None:  # rich exits 1 silently; the CLI boundary says why
            self.quiet = True
            raise BrokenPipeError(errno.EPIPE, "broken pipe")

    return PpeConsole


def stdout_console():
    return _console_class()(highlight=False)


def stderr_console():
    return _console_class()(stderr=True, highlight=False)


def progress_enabled() -> bool:
    """Progress bars only when a person watches (stdout and stderr are terminals)."""
    return sys.stderr.isatty() and sys.stdout.isatty()
