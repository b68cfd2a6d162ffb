"""Answers to manual items for unattended runs: ``--confirm ID[=comment]`` and ``--answers FILE``.

An answers file maps item ids to ``yes``, ``no`` or ``skip``, or to
``{answer: yes, comment: "..."}``. Ids the checklist does not have are errors,
so a typo cannot silently leave an item unconfirmed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ppe_tech.checklist.model import Checklist
from ppe_tech.checklist.runner import FAIL, PASS, SKIP, Answer, asked_by_hand
from ppe_tech.errors import ConfigError
from ppe_tech.i18n import _
from ppe_tech.words import SKIP_WORDS, yes_or_no
from ppe_tech.yamlfile import load_yaml


def answer_status(word: Any) -> str | None:
    """PASS, FAIL or SKIP for an answer word in Russian or English (``да``, ``no``, ``skip``)."""
    verdict = yes_or_no(word)
    if verdict is not None:
        return PASS if verdict else FAIL
    return SKIP if str(word).strip().lower() in SKIP_WORDS else None


def load_answers(path: Path, by: str) -> dict[str, Answer]:
    doc = load_yaml(Path(path))
    if not isinstance(doc.data, dict):
        raise doc.error((), _("expected a mapping of item id to yes | no | skip"))
    answers: dict[str, Answer] = {}
    for item_id, raw in doc.data.items():
        comment = None
        word = raw
        if isinstance(raw, dict):
            unknown = set(raw) - {"answer", "comment"}
            if unknown:
                raise doc.error((item_id, sorted(unknown)[0]), _("unknown field"))
            word, comment = raw.get("answer"), raw.get("comment")
        status = answer_status(word)
        if status is None:
            raise doc.error(
                (item_id,), _("{word} is not one of yes, no, skip").format(word=repr(word))
            )
        answers[str(item_id)] = Answer(status, None if comment is None else str(comment), by)
    return answers


def parse_confirm(values: tuple[str, ...], by: str) -> dict[str, Answer]:
    """``--confirm ID`` or ``--confirm ID=comment``: the item is confirmed (yes)."""
    answers = {}
    for value in values:
        item_id, _sep, comment = value.partition("=")
        if not item_id:
            raise ConfigError(
                _("--confirm {value}: expected ID or ID=comment").format(value=repr(value))
            )
        answers[item_id] = Answer(PASS, comment or None, by)
    return answers


def check_known(
    answers: dict[str, Answer],
    checklist: Checklist,
    source: str,
    *,
    platform: str = sys.platform,
    by_hand: bool = False,
) -> None:
    """Every answered id is an item asked by hand (see ``runner.asked_by_hand``)."""
    manual = {i.id for i in checklist.items if asked_by_hand(i, platform=platform, by_hand=by_hand)}
    for item_id in answers:
        if item_id not in manual:
            message = (
                _("{source}: item {item} is automatic ({checklist})")
                if item_id in {i.id for i in checklist.items}
                else _("{source}: item {item} is not in the checklist ({checklist})")
            )
            raise ConfigError(
                message.format(source=source, item=repr(item_id), checklist=checklist.name)
            )
