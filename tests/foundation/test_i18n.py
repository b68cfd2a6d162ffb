"""The command line speaks the point's language: complete catalogs, compiled, and chosen right."""

from __future__ import annotations

import gettext
import re

import pytest

from ppe_tech.i18n import DOMAIN, LOCALE_DIR
from tests.conftest import REPO

babel_extract = pytest.importorskip("babel.messages.extract")
babel_pofile = pytest.importorskip("babel.messages.pofile")

PO = LOCALE_DIR / "ru" / "LC_MESSAGES" / f"{DOMAIN}.po"
KEYWORDS = {"_": None, "ngettext": (1, 2)}


def _catalog():
    with PO.open("rb") as handle:
        return babel_pofile.read_po(handle, locale="ru")


def _marked_in_code() -> set[str]:
    found = babel_extract.extract_from_dir(
        str(REPO / "ppe_tech"), method_map=[("**.py", "python")], keywords=KEYWORDS
    )
    return {message[2] if isinstance(message[2], str) else message[2][0] for message in found}


def test_every_marked_message_is_translated():
    catalog = _catalog()
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = sorted(_marked_in_code() - translated)
    assert not missing, f"untranslated (run scripts/i18n, translate, run it again): {missing}"


def test_the_compiled_catalog_is_current():
    with (LOCALE_DIR / "ru" / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for message in _catalog():
        if not message.id:
            continue
        if isinstance(message.id, str):
            assert compiled.gettext(message.id) == message.string, message.id
        else:  # 1, 3 and 5 take the three Russian plural forms
            got = [compiled.ngettext(*message.id, n) for n in (1, 3, 5)]
            assert got == list(message.string), message.id


def test_placeholders_survive_translation():
    for message in _catalog():
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        wanted = set(re.findall(r"\{\w+\}", ids[0]))
        for text in strings:
            assert set(re.findall(r"\{\w+\}", text)) == wanted, (message.id, text)
