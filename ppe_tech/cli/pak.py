"""``ppe-tech pak``: The video access (PAK) log: append, checkpoint, verify, audit."""

from __future__ import annotations

import click


@click.group()
def pak() -> None:
    """The video access (PAK) log: append, checkpoint, verify, audit."""
