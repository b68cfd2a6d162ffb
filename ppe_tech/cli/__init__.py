"""The ``ppe-tech`` command: a root group that loads its command groups lazily.

``ppe-tech --help`` must not import OpenCV or WeasyPrint, so the root knows each
group only by module name and a one-line help, and imports a module when its
command is actually run. Every ``PpeError`` becomes one line on stderr and its
exit code (ppe_tech.errors.ExitCode).
"""

from __future__ import annotations

import difflib
import importlib
import sys
import traceback

import click

from ppe_tech import __version__
from ppe_tech.cli.common import App
from ppe_tech.errors import ExitCode, PpeError

# name -> (module, attribute, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("ppe_tech.cli.site", "init", "Make a new site folder with a commented ppe.yaml."),
    "site": ("ppe_tech.cli.site", "site", "Show the resolved site configuration."),
    "check": (
        "ppe_tech.cli.check",
        "check",
        "Run checklists against the two-hours-before deadline.",
    ),
    "cameras": ("ppe_tech.cli.cameras", "cameras", "Verify camera streams and judge the picture."),
    "recordings": (
        "ppe_tech.cli.recordings",
        "recordings",
        "Watch, archive and verify recordings.",
    ),
    "pak": ("ppe_tech.cli.pak", "pak", "Keep and audit the video access (PAK) log."),
    "report": ("ppe_tech.cli.report", "report", "Render, sign and verify PDF protocols."),
    "keys": ("ppe_tech.cli.keys", "keys", "Make or import the site's signing key and certificate."),
    "region": (
        "ppe_tech.cli.region",
        "region",
        "Hand the exam over to the region's S3 storage; review it there.",
    ),
    "demo": ("ppe_tech.cli.demo", "demo", "Make a demo site and run every job on it end to end."),
}


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


class LazyRootGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module_name, attribute, _ = COMMANDS[name]
        return getattr(importlib.import_module(module_name), attribute)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_root_options(args))

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if name and name not in COMMANDS and not name.startswith("-"):
            close = difflib.get_close_matches(name, COMMANDS, n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            ctx.fail(f"No such command '{name}'.{hint}")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, _, help_text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        app: App = ctx.ensure_object(App)
        try:
            return super().invoke(ctx)
        except PpeError as exc:
            click.echo(f"ppe-tech: error: {app.redact(exc.message)}", err=True)
            if app.debug:
                traceback.print_exc()
            ctx.exit(int(exc.exit_code))
        except (KeyboardInterrupt, click.exceptions.Abort):  # Ctrl-C, at a prompt too
            click.echo("ppe-tech: interrupted", err=True)
            ctx.exit(int(ExitCode.INTERRUPTED))
        except (click.exceptions.Exit, click.ClickException):
            raise
        except Exception as exc:  # a bug: say so in one line, traceback only with --debug
            if app.debug:
                raise
            detail = app.redact(f"{type(exc).__name__}: {exc}")
            click.echo(f"ppe-tech: internal error: {detail} (run with --debug)", err=True)
            ctx.exit(int(ExitCode.INTERNAL))


@click.group(cls=LazyRootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--site",
    "site_dir",
    type=click.Path(file_okay=False),
    help="Site folder (default: $PPE_SITE, else the current folder or a parent with ppe.yaml).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
@click.version_option(__version__, prog_name="ppe-tech")
@click.pass_context
def cli(ctx: click.Context, site_dir: str | None, debug: bool) -> None:
    """ppe-tech: the exam-point technician's toolkit.

    Exit codes: 0 ok, 1 something checked failed, 2 usage or config error,
    3 file or device error, 4 no space, 5 key or certificate problem,
    70 internal error, 130 interrupted.
    """
    app = ctx.ensure_object(App)
    app.site_dir = site_dir
    app.debug = debug


def main() -> None:
    sys.exit(cli.main(prog_name="ppe-tech"))
