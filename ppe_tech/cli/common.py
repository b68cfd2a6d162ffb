"""What every command group shares: the site and store of this invocation, the options and
parameter types more than one group uses, output helpers.

Bad values of the shared types raise ``ConfigError`` (one ``ppe-tech: error:`` line, exit 2),
like every other bad input, instead of click's multi-line usage error.
"""

from __future__ import annotations

import difflib
import errno
import functools
import json
import logging
import sqlite3
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from ppe_tech.errors import ConfigError
from ppe_tech.i18n import _, set_language, site_language

if TYPE_CHECKING:  # importing the site loads pydantic: keep `ppe-tech --help` fast
    from ppe_tech.site import Exam, Site


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
            from ppe_tech.site import open_site  # pydantic: not for `ppe-tech --help`

            self._site = open_site(self.site_dir, speak=self.speak)
            self.speak(self._site.config.point.language)
            for warning in self._site.secret_warnings:
                echo_warning(warning)
        return self._site

    def speak(self, point_language: str) -> None:
        """Speak ``--lang``, else ``$PPE_LANG``, else the point's language."""
        set_language(self.lang or site_language(point_language))

    @property
    def db(self) -> sqlite3.Connection:
        """The store, opened on first use; the root command closes it (``close``) at the end."""
        if self._db is None:
            from ppe_tech.store import connect  # only commands that use the store load it

            self._db = connect(self.site.db_path)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def exam(
        self, exam_id: str | None, *, recorded: bool = False, check: bool = False
    ) -> Exam | None:
        """``--exam ID``, or the exam of the day, named on stderr before the command starts.

        The exam of the day is the first that has not ended (what a check is for), or with
        ``recorded`` the latest that has started (footage and records are of the exam running
        or just over). A ``check`` for an exam already over gets a warning.
        """
        from ppe_tech.timeutil import utc_now

        now = utc_now()
        site = self.site
        exam: Exam | None
        if exam_id:
            exam = site.exam(exam_id)
        else:
            exam = site.exam_recorded(now) if recorded else site.exam_ahead(now)
            if exam is not None:
                click.echo(exam_line(site, exam, now, recorded=recorded), err=True)
        if exam is not None and check and exam.end_at(site.tz) <= now:
            when = day_and_clock(site, exam.end_at(site.tz), now)
            echo_warning(_("exam {exam} is over (it ended {when})").format(exam=exam.id, when=when))
        return exam

    def exam_id(self, exam_id: str | None, *, recorded: bool = False) -> str | None:
        """The id of ``exam`` (named on stderr when chosen), for commands that pass an id on."""
        exam = self.exam(exam_id, recorded=recorded)
        return exam.id if exam else None

    def redact(self, text: str) -> str:
        from ppe_tech.site import mask_url

        return self._site.redact(text) if self._site else mask_url(text)


def day_and_clock(site: Site, moment: datetime, now: datetime) -> str:
    """``10:00``, or ``01.12 10:00`` on another day than today (the point's local time)."""
    local = moment.astimezone(site.tz)
    same_day = local.date() == now.astimezone(site.tz).date()
    return f"{local:%H:%M}" if same_day else f"{local:%d.%m %H:%M}"


def exam_line(site: Site, exam: Exam, now: datetime, *, recorded: bool = False) -> str:
    """``Exam 2026-12-02-math, start 10:00, check deadline 08:00``, or for its records
    ``Exam 2026-12-01-russian, 01.12 10:00-13:30`` (the point's local time)."""
    start = day_and_clock(site, exam.start_at(site.tz), now)
    if recorded:
        end = f"{exam.end_at(site.tz):%H:%M}"
        return _("Exam {exam}, {start}-{end}").format(exam=exam.id, start=start, end=end)
    deadline = day_and_clock(site, site.deadline(exam), now)
    line = _("Exam {exam}, start {start}, check deadline {deadline}")
    return line.format(exam=exam.id, start=start, deadline=deadline)


class WarningLines(logging.Handler):
    """The library's warnings (``logging``, level WARNING and up) as ``ppe-tech: ...`` lines on
    stderr, each distinct line once per command (a key used three times warns once)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage()
        if line not in self.seen:
            self.seen.add(line)
            click.echo(f"ppe-tech: {line}", err=True)


class CommandGroup(click.Group):
    """A command group that names the nearest command for a mistyped one (``check rn``:
    ``run``), in the invocation's language, as the root group does for ``chek``."""

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        commands = self.list_commands(ctx)
        if name and name not in commands and not name.startswith("-"):
            close = difflib.get_close_matches(name, commands, n=1, cutoff=0.6)
            hint = " " + _("Did you mean '{name}'?").format(name=close[0]) if close else ""
            ctx.fail(_("No such command '{name}'.").format(name=name) + hint)
        return super().resolve_command(ctx, args)


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


EXAM_AHEAD = "the exam of the day: the first that has not ended"
EXAM_RECORDED = "the latest exam that has started"


def exam_option(default: str = EXAM_AHEAD, *, required: bool = False):
    """``--exam ID``: an exam of ppe.yaml; ``default`` says what an unset one means."""
    more = "" if required else f" (default: {default})"
    return click.option(
        "--exam", "exam_id", metavar="ID", required=required, help=f"Exam id from ppe.yaml{more}."
    )


def zone_option(help: str = "Only the cameras of this zone."):
    """``--zone`` with the zones of ``ppe_tech.site.ZONES`` as its choices."""
    from ppe_tech.site import ZONES  # loads pydantic: only when a group that needs it loads

    return click.option("--zone", type=click.Choice(ZONES), help=help)


def _name(param: click.Parameter | None) -> str:
    if param is None:
        return _("value")
    return param.opts[0] if getattr(param, "opts", None) else param.human_readable_name


class _Parsed(click.ParamType):
    """A value written in the toolkit's notation; ``parse`` raises ValueError when it is not."""

    def parse(self, value: Any) -> Any:
        raise NotImplementedError

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self.name.upper()

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        try:
            return self.parse(value)
        except (ValueError, OverflowError) as exc:
            raise ConfigError(
                _("{option}: {reason}").format(option=_name(param), reason=exc)
            ) from None


class DurationType(_Parsed):
    """``90s``, ``30m``, ``3h55m``, ``250ms`` -> timedelta (ppe_tech.timeutil.parse_duration)."""

    name = "duration"

    def __init__(self, *, positive: bool = False):
        self.positive = positive

    def parse(self, value: Any) -> timedelta:
        from ppe_tech.timeutil import parse_duration

        duration = value if isinstance(value, timedelta) else parse_duration(value)
        if self.positive and duration <= timedelta(0):
            raise ValueError(_("{value!r} is not positive").format(value=value))
        return duration


class SizeType(_Parsed):
    """``500M``, ``10G`` (powers of 1024) -> bytes (ppe_tech.fsutil.parse_size)."""

    name = "size"

    def parse(self, value: Any) -> int:
        from ppe_tech.fsutil import parse_size

        return value if isinstance(value, int) else parse_size(value)


class Between(click.FloatRange):
    """A number in a range; out of it: "--sample must be between 0 and 600 seconds"."""

    def __init__(self, low: float, high: float, *, unit: str = "", low_open: bool = False):
        super().__init__(low, high, min_open=low_open)
        self.unit = unit

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            # the unit is given where the option is declared (at import): in words here
            unit = {"seconds": _("seconds")}.get(self.unit, self.unit)
            raise ConfigError(
                _("{option} must be between {low} and {high}{unit}").format(
                    option=_name(param),
                    low=f"{self.min:g}",
                    high=f"{self.max:g}",
                    unit=f" {unit}" if unit else "",
                )
            ) from None


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


def manual_prompt(lang: str, by: str):
    """An ``ask(item)`` for the checklist runner: the item's question on stderr, yes/no/skip
    and a comment; Ctrl-C becomes KeyboardInterrupt so the runner keeps what is done."""
    from ppe_tech.checklist.answers import answer_status
    from ppe_tech.checklist.runner import Answer
    from ppe_tech.i18n import _

    def ask(item) -> Answer | None:
        try:
            return _ask_once(item)
        except click.Abort:  # Ctrl-C at a prompt: the runner keeps what is done
            raise KeyboardInterrupt from None

    def _ask_once(item) -> Answer | None:
        question = item.question.get(lang)
        click.echo(f"\n[{item.id}] {item.title.get(lang)}", err=True)
        choices = _("yes/no/skip")
        word = click.prompt(f"{question} [{choices}]", err=True, default="", show_default=False)
        status = answer_status(word)
        while status is None and word:
            word = click.prompt(
                _("answer yes, no or skip"), err=True, default="", show_default=False
            )
            status = answer_status(word)
        if status is None:
            return None
        comment = click.prompt(
            _("comment (Enter for none)"), err=True, default="", show_default=False
        )
        return Answer(status, comment or None, by)

    return ask


def echo_warning(warning: object) -> None:
    """``ppe-tech: warning: ...`` on stderr, in the command line's language."""
    click.echo(_("ppe-tech: warning: {warning}").format(warning=warning), err=True)


def print_warnings(app: App) -> None:
    """The site's config warnings (``ppe.yaml:LINE: ...``), one line each on stderr."""
    for warning in app.site.warnings:
        echo_warning(warning)


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
