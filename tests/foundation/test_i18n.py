"""The command line speaks the point's language: complete catalogs, compiled, and chosen right."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import click
import pytest

from ppe_tech.i18n import CLICK_DOMAIN, DOMAIN, LOCALE_DIR
from tests.conftest import REPO

babel_extract = pytest.importorskip("babel.messages.extract")
babel_pofile = pytest.importorskip("babel.messages.pofile")

# each catalog and the source its messages are marked in: ours, and click's own words
SOURCES = {DOMAIN: REPO / "ppe_tech", CLICK_DOMAIN: Path(click.__file__).parent}
PLACEHOLDER = re.compile(r"\{\w+(?:![rsa])?\}|%\(\w+\)s")  # str.format and %-style
domains = pytest.mark.parametrize("domain", sorted(SOURCES))
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def _catalog(domain: str):
    with (LOCALE_DIR / "ru" / "LC_MESSAGES" / f"{domain}.po").open("rb") as handle:
        return babel_pofile.read_po(handle, locale="ru")


def _marked_in_code(domain: str) -> set[str]:
    found = babel_extract.extract_from_dir(
        str(SOURCES[domain]), method_map=[("**.py", "python")], keywords=KEYWORDS
    )
    return {message[2] if isinstance(message[2], str) else message[2][0] for message in found}


@domains
def test_every_marked_message_is_translated(domain):
    catalog = _catalog(domain)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = sorted(_marked_in_code(domain) - translated)
    assert not missing, f"untranslated (run scripts/i18n, translate, run it again): {missing}"


@domains
def test_the_compiled_catalog_is_current(domain):
    with (LOCALE_DIR / "ru" / "LC_MESSAGES" / f"{domain}.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for message in _catalog(domain):
        if not message.id:
            continue
        if isinstance(message.id, str):
            assert compiled.gettext(message.id) == message.string, message.id
        else:  # 1, 3 and 5 take the three Russian plural forms
            got = [compiled.ngettext(*message.id, n) for n in (1, 3, 5)]
            assert got == list(message.string), message.id


@domains
def test_placeholders_survive_translation(domain):
    for message in _catalog(domain):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        wanted = set().union(*(PLACEHOLDER.findall(text) for text in ids))
        for text in strings:
            found = set(PLACEHOLDER.findall(text))
            # a plural form may use the singular's or the plural's placeholders (both are given)
            assert found == wanted if len(ids) == 1 else found <= wanted, (message.id, text)
