"""The words people answer a question with, in the languages of the point (Russian, English).

One table for every prompt and answers file: ``да``/``д`` work wherever ``yes``/``y`` do.
"""

from __future__ import annotations

YES_WORDS = frozenset({"yes", "y", "true", "да", "д"})
NO_WORDS = frozenset({"no", "n", "false", "нет", "н"})
SKIP_WORDS = frozenset({"skip", "s", "пропустить", "пропуск", "п"})


def yes_or_no(word: object) -> bool | None:
    """True for a yes word, False for a no word, None for anything else."""
    if isinstance(word, bool):  # YAML reads bare yes/no as booleans
        return word
    text = str(word).strip().lower()
    if text in YES_WORDS:
        return True
    if text in NO_WORDS:
        return False
    return None
