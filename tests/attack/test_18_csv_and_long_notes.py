"""Issue 10 item 18: spreadsheet formulas in notes are defused, notes are bounded at entry,
and the longest note allowed, unbroken, still renders into the access-log report.
"""

from __future__ import annotations

import csv
import io

import pytest

from tests.attack.conftest import assert_clean_exit, assert_one_line_error

BOUND_S = 60
REPORT_BOUND_S = 240  # one small signed PDF; the issue saw > 20 minutes for a 130 KB note
FORMULAS = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", '=HYPERLINK("http://x")']


def _add(ppe, note: str, **kwargs):
    return ppe(
        "pak",
        "add",
        "--action",
        "other",
        "--room",
        "Аудитория 0001",
        "--start",
        "2026-05-28T10:00",
        f"--note={note}",
        **kwargs,
    )


def test_formulas_are_prefixed_in_csv(ppe):
    for note in FORMULAS:
        assert_clean_exit(_add(ppe, note, timeout=BOUND_S), 0)
    ran = ppe("pak", "export", "--csv", "--lang", "en", timeout=BOUND_S)
    assert_clean_exit(ran, 0)
    rows = list(csv.DictReader(io.StringIO(ran.stdout)))
    assert [row["Note"] for row in rows] == ["'" + note for note in FORMULAS]
    listed = ppe("pak", "list", "--json", timeout=BOUND_S)  # the log itself keeps the note as typed
    assert all(note in listed.stdout.replace('\\"', '"') for note in FORMULAS)


@pytest.mark.parametrize("size", [2001, 130_000])
def test_note_past_the_bound_is_refused(ppe, site_dir, size):
    ran = _add(ppe, "x" * size, timeout=BOUND_S)
    assert_one_line_error(ran, 2, contains="at most 2,000")
    assert len(ran.stderr) < 300  # the error does not echo the note
    assert_clean_exit(ppe("pak", "verify", timeout=BOUND_S), 0)
    assert ppe("pak", "list", "--json", timeout=BOUND_S).stdout.count('"no"') == 0


def test_longest_unbroken_note_renders(ppe, site_dir):
    env = {"PPE_KEY_PASSPHRASE": "attack-pass-18"}
    assert_clean_exit(ppe("keys", "init", "--cn", "Ivanov I.I.", env=env, timeout=BOUND_S), 0)
    assert_clean_exit(_add(ppe, "Ж" * 2000, timeout=BOUND_S), 0)
    ran = ppe(
        "report",
        "access-log",
        "--from",
        "2026-05-28",
        "--to",
        "2026-05-28",
        env=env,
        timeout=REPORT_BOUND_S,
    )
    assert_clean_exit(ran, 0)
    pdf = next((site_dir / "reports").glob("*.pdf"))
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert text.count("Ж") >= 1900  # wrapped onto lines, not cut off or overflowing away
