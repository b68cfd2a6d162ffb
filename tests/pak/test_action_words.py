"""The official actions are chosen the way people name them: a number or the words, not a code."""

from __future__ import annotations

import pytest

from ppe_tech.pak import journal


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("4", "card_removal"),
        ("Извлечение карты памяти", "card_removal"),
        ("  извлечение   КАРТЫ памяти ", "card_removal"),
        ("Memory card removal", "card_removal"),
        ("export", "export"),
        ("1", "performance_check"),
        ("8", "other"),
    ],
)
def test_action_from_words(typed, code):
    assert journal.action_from_words(typed) == code


@pytest.mark.parametrize("typed", ["0", "9", "dance", "", "карта"])
def test_action_from_words_refuses_what_is_no_action(typed):
    assert journal.action_from_words(typed) is None


def test_add_takes_the_number_at_the_prompt(site, conn, cli, monkeypatch):
    from ppe_tech.cli import pak as pak_cli

    monkeypatch.setattr(pak_cli, "_interactive", lambda no_input, as_json: True)
    answers = "12\n4\nАудитория 0003\n10:40\n\n\n\n"  # 12 is no action: asked again
    result = cli("pak", "add", "--date", "2026-05-28", input=answers)
    assert result.exit_code == 0, result.stderr
    assert "4. Memory card removal" in result.stderr  # the site's language is en
    assert "choose a number from 1 to 8" in result.stderr
    [row] = journal.list_entries(conn)
    assert row["action"] == "card_removal" and row["rooms"] == "Аудитория 0003"


def test_add_flag_takes_the_words(site, conn, cli):
    result = cli(
        "pak",
        "add",
        "--action",
        "Извлечение карты памяти",
        "--room",
        "0003",
        "--date",
        "2026-05-28",
        "--start",
        "10:40",
        "--no-input",
    )
    assert result.exit_code == 0, result.stderr
    assert journal.list_entries(conn)[-1]["action"] == "card_removal"
