"""``ppe-tech recordings``: Watch recordings during the exam; archive and verify the corridor and entrance footage."""

from __future__ import annotations

import click


@click.group()
def recordings() -> None:
    """Watch recordings during the exam; archive and verify the corridor and entrance footage."""
