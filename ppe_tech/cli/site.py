"""``ppe-tech init`` and ``ppe-tech site``: make a site folder, show its resolved config."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from ppe_tech.cli.common import App, CommandGroup, json_option, pass_app, print_json, print_warnings
from ppe_tech.i18n import _
from ppe_tech.siteinit import make_site_folder


@click.command()
@click.argument("folder", default=".", type=click.Path(file_okay=False, path_type=Path))
def init(folder: Path) -> None:
    """Make a site in FOLDER: a commented ppe.yaml and its subfolders."""
    target = make_site_folder(folder)
    click.echo(
        _("wrote {file}; edit it, then run: ppe-tech --site {folder} site show").format(
            file=target, folder=folder
        )
    )


@click.group(cls=CommandGroup)
def site() -> None:
    """The site folder and its configuration."""


@site.command("show")
@json_option
@pass_app
def show(app: App, as_json: bool) -> None:
    """Print the resolved ppe.yaml (secrets from the environment masked); durations and sizes
    as ppe.yaml writes them (3h55m, 2G), so the output loads again as the same config."""
    print_warnings(app)
    if as_json:
        print_json({"folder": str(app.site.folder), "config": app.site.public_config()})
        return
    config = app.site.public_config(as_written=True)
    click.echo("# " + _("site folder: {folder}").format(folder=app.site.folder))
    click.echo(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), nl=False)
