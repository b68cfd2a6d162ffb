"""``ppe-tech report``: Signed PDF protocols: render, sign, countersign, verify."""

from __future__ import annotations

import click


@click.group()
def report() -> None:
    """Signed PDF protocols: render, sign, countersign, verify."""
