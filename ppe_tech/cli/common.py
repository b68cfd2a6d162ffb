"""What every command group shares: the site and store of this invocation, output helpers."""

from __future__ import annotations

import json
import sqlite3
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # importing the site loads pydantic: keep `ppe-tech --help` fast
    from ppe_tech.site import Site


@dataclass
class App:
    """Per-invocation state, stored as click's context object."""

    site_dir: str | None = None
    debug: bool = False
    _site: Site | None = field(default=None, repr=False)
    _db: sqlite3.Connection | None = field(default=None, repr=False)

    @property
    def site(self) -> Site:
        if self._site is None:
            from ppe_tech.site import open_site

            self._site = open_site(self.site_dir)
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


def lang_option(what: str = "Language"):
    """``--lang ru|en``; unset means the site's ``point.language``."""
    return click.option(
        "--lang", type=click.Choice(["ru", "en"]), help=f"{what} (default: the site's)."
    )


def confirm(question: str) -> bool:
    """Ask a yes/no question on stderr; yes/y/да/д and no/n/нет/н are understood (Enter: no)."""
    from ppe_tech.words import yes_or_no

    while True:
        word = click.prompt(f"{question} [y/N]", default="", show_default=False, err=True)
        verdict = yes_or_no(word) if word else False
        if verdict is not None:
            return verdict
        click.echo("answer yes or no (да / нет)", err=True)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def stdout_console():
    from rich.console import Console

    return Console(highlight=False)


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def progress_enabled() -> bool:
    """Progress bars only when a person watches (stdout and stderr are terminals)."""
    return sys.stderr.isatty() and sys.stdout.isatty()
