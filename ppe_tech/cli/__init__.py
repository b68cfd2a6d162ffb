"""The ``ppe-tech`` command: a root group that loads its command groups lazily.

``ppe-tech --help`` must not import OpenCV or WeasyPrint, so the root knows each
group only by module name and a one-line help, and imports a module when its
command is actually run. Every ``PpeError`` becomes one line on stderr and its
exit code (ppe_tech.errors.ExitCode).
"""

from __future__ import annotations

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


class LazyRootGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module_name, attribute, _ = COMMANDS[name]
        return getattr(importlib.import_module(module_name), attribute)

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
        except KeyboardInterrupt:
            click.echo("ppe-tech: interrupted", err=True)
            ctx.exit(int(ExitCode.INTERRUPTED))
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
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
