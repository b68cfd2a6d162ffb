"""The options and parameter types the command groups share (ppe_tech/cli/common.py)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import click
import pytest
from click.testing import CliRunner

from ppe_tech.cli import LazyRootGroup
from ppe_tech.cli.common import (
    App,
    Between,
    DurationType,
    SizeType,
    exam_option,
    pass_app,
    zone_option,
)
from ppe_tech.site import ZONES, Zone
from tests.conftest import minimal_config, write_site


class Root(LazyRootGroup):
    """The real root's error boundary (invoke), over commands registered here."""

    list_commands = click.Group.list_commands
    get_command = click.Group.get_command
    resolve_command = click.Group.resolve_command
    format_commands = click.Group.format_commands


@click.group(cls=Root)
@click.pass_context
def root(ctx):
    """A root with the real error boundary, over a test command."""
    ctx.call_on_close(ctx.ensure_object(App).close)


SEEN: dict = {}


@root.command("probe")
@click.option("--wait", type=DurationType(positive=True), default="1s")
@click.option("--room", type=SizeType())
@click.option("--sample", type=Between(0, 600, unit="seconds", low_open=True), default=3.0)
@exam_option()
@zone_option()
@pass_app
def probe(app, wait, room, sample, exam_id, zone):
    """Record what the options gave."""
    SEEN.update(wait=wait, room=room, sample=sample, exam_id=exam_id, zone=zone)


def run(*args):
    SEEN.clear()
    return CliRunner().invoke(root, ["probe", *args], catch_exceptions=False)


def test_the_types_convert():
    result = run("--wait", "1m30s", "--room", "2G", "--sample", "600", "--exam", "x")
    assert result.exit_code == 0, result.output
    assert SEEN == {
        "wait": timedelta(seconds=90),
        "room": 2 * 1024**3,
        "sample": 600.0,
        "exam_id": "x",
        "zone": None,
    }
    assert run().exit_code == 0 and SEEN["wait"] == timedelta(seconds=1)  # defaults convert too


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--wait", "soon"], "--wait: 'soon' is not a duration"),
        (["--wait", "0s"], "--wait: '0s' is not positive"),
        (["--room", "lots"], "--room: 'lots' is not a size"),
        (["--sample", "0"], "--sample must be between 0 and 600 seconds"),
        (["--sample", "601"], "--sample must be between 0 and 600 seconds"),
    ],
)
def test_bad_values_are_one_line_exit_2(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"ppe-tech: error: {message}")
    assert len(result.stderr.strip().splitlines()) == 1 and not SEEN


def test_one_list_of_zones():
    assert ZONES == ("auditorium", "corridor", "entrance", "staff-room")
    assert set(ZONES) == set(Zone.__args__)
    assert run("--zone", "entrance").exit_code == 0 and SEEN["zone"] == "entrance"
    assert run("--zone", "garden").exit_code == 2


def test_the_store_opened_by_a_command_is_closed_when_it_ends(site_dir):
    write_site(site_dir, minimal_config())
    opened: list[sqlite3.Connection] = []

    @root.command("touch")
    @pass_app
    def touch(app):
        """Use the store."""
        opened.append(app.db)

    assert CliRunner().invoke(root, ["touch"], catch_exceptions=False).exit_code == 0
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        opened[0].execute("SELECT 1")


def test_the_real_root_closes_the_store(cli, site_dir, monkeypatch):
    write_site(site_dir, minimal_config())
    closed = []
    monkeypatch.setattr(App, "close", lambda self: closed.append(self._db is not None))
    assert cli("check", "list").exit_code == 0
    assert closed == [True]
