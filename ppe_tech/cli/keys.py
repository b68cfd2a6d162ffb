"""``ppe-tech keys``: The site's signing key and certificate."""

from __future__ import annotations

import click


@click.group()
def keys() -> None:
    """The site's signing key and certificate."""
