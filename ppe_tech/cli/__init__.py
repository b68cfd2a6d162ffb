"""The ``ppe-tech`` command: a root group that loads its command groups lazily.

``ppe-tech --help`` must not import OpenCV or WeasyPrint, so the root knows each
group only by module name and a one-line help, and imports a module when its
command is actually run. Every ``PpeError`` becomes one line on stderr and its
exit code (ppe_tech.errors.ExitCode).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import sqlite3
import sys
import traceback

import click

from ppe_tech import __version__
from ppe_tech.cli.common import App, CommandGroup, WarningLines
from ppe_tech.errors import ConfigError, ExitCode, PpeError, exit_code_summary
from ppe_tech.i18n import N_, _, translate_click

translate_click()  # click's own words (Usage:, Error:...) follow the language too

# name -> (module, attribute, one-line help: English, translated where `--help` shows it)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("ppe_tech.cli.site", "init", N_("Make a new site folder with a commented ppe.yaml.")),
    "site": ("ppe_tech.cli.site", "site", N_("Show the resolved site configuration.")),
    "check": (
        "ppe_tech.cli.check",
        "check",
        N_("Run checklists against the two-hours-before deadline."),
    ),
    "cameras": (
        "ppe_tech.cli.cameras",
        "cameras",
        N_("Verify camera streams and judge the picture."),
    ),
    "recordings": (
        "ppe_tech.cli.recordings",
        "recordings",
        N_("Watch, archive and verify recordings."),
    ),
    "pak": ("ppe_tech.cli.pak", "pak", N_("Keep and audit the video access (PAK) log.")),
    "report": ("ppe_tech.cli.report", "report", N_("Render, sign and verify PDF protocols.")),
    "keys": (
        "ppe_tech.cli.keys",
        "keys",
        N_("Make or import the site's signing key and certificate."),
    ),
    "region": (
        "ppe_tech.cli.region",
        "region",
        N_("Hand the exam over to the region's S3 storage; review it there."),
    ),
    "station": (
        "ppe_tech.cli.station",
        "station",
        N_("Check one station: run, enroll, import, confirm."),
    ),
    "stations": (
        "ppe_tech.cli.station",
        "stations",
        N_("Each room's stations and the point's readiness."),
    ),
    "demo": (
        "ppe_tech.cli.demo",
        "demo",
        N_("Make a demo site and run every job on it end to end."),
    ),
    "serve": ("ppe_tech.cli.serve", "serve", N_("Run the exam-day console in a browser.")),
}


def error_line(message: str) -> str:
    """The one line an error is: ``ppe-tech: error: MESSAGE`` (``ppe-tech: ошибка: ...``)."""
    return _("ppe-tech: error: {message}").format(message=message)


def hoist_root_options(args: list[str]) -> list[str]:
    """Move ``--site DIR`` / ``--site=DIR`` / ``--debug`` found after the subcommand to the front.

    No subcommand has options of these names, so moving them changes no meaning; words after
    ``--`` are left alone.
    """
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest.extend(args[index:])
            break
        if arg == "--debug" or arg.startswith("--site="):
            front.append(arg)
        elif arg == "--site" and index + 1 < len(args):
            front.extend(args[index : index + 2])
            index += 1
        else:
            rest.append(arg)
        index += 1
    return front + rest


# top-level modules of the `full` extra (pyproject.toml): a station install has none of them
FULL_EXTRA_MODULES = frozenset(
    {
        "cv2",
        "numpy",
        "weasyprint",
        "pyhanko",
        "pyhanko_certvalidator",
        "watchdog",
        "wsdiscovery",
        "uharfbuzz",
        "fontTools",
        "starlette",
        "uvicorn",
        "multipart",
    }
)


# command groups that cannot work at all without the `full` extra, and a module each needs
NEEDS_FULL = {
    "cameras": "cv2",
    "recordings": "watchdog",
    "report": "weasyprint",
    "demo": "cv2",
    "serve": "starlette",
}


def full_install_error(command: str, module: str) -> ConfigError:
    return ConfigError(
        _(
            "`ppe-tech {command}` needs the full install ({module} is not installed): "
            "pip install 'ppe-tech[full]'"
        ).format(command=command, module=module)
    )


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_full_extra(exc: BaseException) -> str | None:
    """The module of the ``full`` extra whose absence raised ``exc``, or None."""
    if isinstance(exc, ModuleNotFoundError):
        top = (exc.name or "").partition(".")[0]
        return top if top in FULL_EXTRA_MODULES else None
    return None


@contextlib.contextmanager
def help_translated(owner: click.Option | click.Command):
    """``owner.help`` (a catalog message, ``N_``) in the language of ``--help``, meanwhile."""
    english = owner.help
    owner.help = _(english) if english else english
    try:
        yield
    finally:
        owner.help = english


class TranslatedOption(click.Option):
    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        with help_translated(self):
            return super().get_help_record(ctx)


class LazyRootGroup(CommandGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module_name, attribute, _help = COMMANDS[name]
        if name in NEEDS_FULL and not _installed(NEEDS_FULL[name]):
            raise full_install_error(name, NEEDS_FULL[name])
        return getattr(importlib.import_module(module_name), attribute)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_root_options(args))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _(help_text)) for name, (_module, _attribute, help_text) in COMMANDS.items()]
        with formatter.section(_("Commands")):
            formatter.write_dl(rows)

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with help_translated(self):
            super().format_help_text(ctx, formatter)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_paragraph()  # at help time: the invocation's language is known then
        with formatter.indentation():
            formatter.write_text(_("Exit codes: {summary}.").format(summary=exit_code_summary()))

    def invoke(self, ctx: click.Context):
        app: App = ctx.ensure_object(App)
        warnings = WarningLines()  # library warnings (e.g. a key file others can read)
        logging.getLogger("ppe_tech").addHandler(warnings)
        ctx.call_on_close(lambda: logging.getLogger("ppe_tech").removeHandler(warnings))
        try:
            try:
                return super().invoke(ctx)
            except (sqlite3.Error, OSError) as exc:  # the machine failed, not ppe-tech
                from ppe_tech.cli.boundary import output_error
                from ppe_tech.store import store_error

                if app.debug:
                    traceback.print_exc()
                failure = store_error(exc) if isinstance(exc, sqlite3.Error) else output_error(exc)
                raise failure from None
        except PpeError as exc:
            click.echo(error_line(app.redact(exc.message)), err=True)
            if app.debug:
                traceback.print_exc()
            ctx.exit(int(exc.exit_code))
        except (KeyboardInterrupt, click.exceptions.Abort):  # Ctrl-C (or SIGTERM), at a prompt too
            from ppe_tech import interrupts

            click.echo(_("ppe-tech: interrupted"), err=True)
            ctx.exit(interrupts.exit_code())
        except (click.exceptions.Exit, click.ClickException):
            raise
        except Exception as exc:  # a bug: say so in one line, traceback only with --debug
            missing = missing_full_extra(exc)
            if missing and not app.debug:
                error = full_install_error(ctx.invoked_subcommand or "", missing)
                click.echo(error_line(error.message), err=True)
                ctx.exit(int(error.exit_code))
            if app.debug:
                raise
            detail = app.redact(f"{type(exc).__name__}: {exc}")
            click.echo(
                _("ppe-tech: internal error: {detail} (run with --debug)").format(detail=detail),
                err=True,
            )
            ctx.exit(int(ExitCode.INTERNAL))


@click.group(
    cls=LazyRootGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    help=N_("ppe-tech: the exam-point technician's toolkit."),
)
@click.option(
    "--site",
    "site_dir",
    type=click.Path(file_okay=False),
    cls=TranslatedOption,
    help=N_("Site folder (default: $PPE_SITE, else the current folder or a parent with ppe.yaml)."),
)
@click.option("--debug", is_flag=True, cls=TranslatedOption, help=N_("Show tracebacks of errors."))
@click.version_option(__version__, prog_name="ppe-tech")
@click.pass_context
def cli(ctx: click.Context, site_dir: str | None, debug: bool) -> None:
    app = ctx.ensure_object(App)
    app.site_dir = site_dir
    app.debug = debug
    ctx.call_on_close(app.close)  # the store this invocation opened, if it opened one


def main() -> None:
    from ppe_tech import interrupts

    interrupts.install()
    code: int | str | None
    try:
        code = cli.main(prog_name="ppe-tech")
    except SystemExit as done:
        code = done.code
    from ppe_tech.cli.boundary import flush_stdout

    failed = flush_stdout()  # buffered output of a finished command: the pipe may be closed
    if failed is not None:
        click.echo(error_line(failed.message), err=True)
        code = int(failed.exit_code)
    sys.exit(code)
