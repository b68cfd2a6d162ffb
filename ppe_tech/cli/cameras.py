"""``ppe-tech cameras``: Verify camera streams and judge the picture against the approved reference."""

from __future__ import annotations

import click


@click.group()
def cameras() -> None:
    """Verify camera streams and judge the picture against the approved reference."""
