"""Issue 10 item 8: stored or measured text is never read as rich markup, never sent raw.

A room, a note, a checklist title and a probe's output holding ``[/]``, markup tags and
terminal escape sequences (ANSI colours, an OSC window title, a screen clear, a bidi
override): every listing still works, shows the text literally, and no escape byte
reaches the terminal.
"""

from __future__ import annotations

import pytest

from tests.attack.conftest import assert_clean_exit, assert_one_line_error
from tests.checklist.conftest import write_checklist

BOUND_S = 60
NASTY = [
    "[/]",
    "[bold red]forged[/bold red] [link=http://x]y[/link]",
    "\x1b[2J\x1b[31mred\x1b[0m",
    "\x1b]0;pwned\x07title",
    "\u202eevil",
    "bell\x07 and C1 \x9b",
]


def assert_terminal_safe(text: str) -> None:
    for byte in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert byte not in text, f"{byte!r} reached the terminal"


@pytest.mark.parametrize("nasty", NASTY)
def test_pak_texts_are_data(ppe, nasty):
    added = ppe(
        "pak",
        "add",
        "--action",
        "other",
        "--room",
        f"Room {nasty}",
        "--start",
        "10:00",
        "--end",
        "10:05",
        "--by",
        "technician",
        "--responsible",
        "head",
        "--note",
        f"note {nasty}",
        timeout=BOUND_S,
    )
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in nasty):  # refused at entry already
        assert_one_line_error(added, 2, contains="control characters")
        return
    assert_clean_exit(added, 0)
    listed = ppe("pak", "list", timeout=BOUND_S)
    assert_clean_exit(listed, 0)
    assert_terminal_safe(listed.stdout)
    if nasty.startswith("["):
        assert nasty.split()[0] in listed.stdout.replace("\n", "")
    audit = ppe("pak", "audit", timeout=BOUND_S)
    assert audit.returncode in (0, 1) and "Traceback" not in audit.output, str(audit)
    assert "internal error" not in audit.stderr
    assert_terminal_safe(audit.stdout)
    again = ppe("pak", "list", timeout=BOUND_S)  # one such entry must not break the log for good
    assert_clean_exit(again, 0)


@pytest.mark.parametrize("nasty", NASTY)
def test_checklist_texts_and_probe_output_are_data(ppe, site_dir, nasty):
    write_checklist(
        site_dir / "checklists",
        "nasty",
        [
            {
                "id": "echo",
                "title": f"Title {nasty}",
                "probe": {"type": "command", "argv": ["printf", "%s", f"out {nasty}"]},
            },
        ],
    )
    for args in (
        ("check", "run", "nasty", "--no-input"),
        ("check", "show", "latest"),
        ("check", "list"),
    ):
        ran = ppe(*args, timeout=BOUND_S)
        assert_clean_exit(ran, 0)
        assert_terminal_safe(ran.stdout)
    shown = ppe("check", "show", "latest", timeout=BOUND_S).stdout.replace("\n", "")
    if nasty == "[/]":
        assert "[/]" in shown
