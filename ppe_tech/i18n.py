"""The command line's own words in the point's language, through gettext catalogs.

English is the source language: every message is written in English in the code, marked
``_("...")`` (or ``ngettext`` for counts), extracted by Babel into
``ppe_tech/locale/ppe_tech.pot`` and translated in ``ppe_tech/locale/ru/LC_MESSAGES/
ppe_tech.po``; ``scripts/i18n`` extracts, updates and compiles the ``.mo`` shipped in the
wheel (a test fails when the compiled catalog is stale or a marked message is untranslated).

The language of an invocation: ``--lang``, else ``$PPE_LANG``, else ``point.language`` of the
site, else English before a site is loaded. Ids, codes and units that are Latin on paper too
are never translated.
"""

from __future__ import annotations

import gettext
import os
from functools import cache
from pathlib import Path

DOMAIN = "ppe_tech"
CLICK_DOMAIN = "click"  # click's own words, extracted from the installed click (scripts/i18n)
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("ru", "en")

_env_lang = os.environ.get("PPE_LANG", "")
_current: dict[str, str] = {"lang": _env_lang if _env_lang in LANGUAGES else "en"}


@cache
def _catalog(lang: str, domain: str = DOMAIN) -> gettext.NullTranslations:
    return gettext.translation(domain, localedir=LOCALE_DIR, languages=[lang], fallback=True)


def set_language(lang: str | None) -> None:
    """Use ``lang`` from now on (``None`` or an unknown code leaves the language as it is)."""
    if lang in LANGUAGES:
        _current["lang"] = lang


def site_language(configured: str) -> str:
    """The language of an invocation on a site: ``$PPE_LANG`` beats ``point.language``."""
    chosen = os.environ.get("PPE_LANG")
    return chosen if chosen in LANGUAGES else configured


def current_language() -> str:
    return _current["lang"]


def _now(domain: str = DOMAIN) -> gettext.NullTranslations:
    """The catalog of ``domain`` in the current language."""
    return _catalog(_current["lang"], domain)


def _(message: str) -> str:
    """``message`` (English) in the current language."""
    return _now().gettext(message)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog where it is defined; ``_()`` translates it where it is
    shown (a table of texts made at import, before the invocation's language is known)."""
    return message


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form for ``count`` (Russian has three plural forms; the catalog knows them)."""
    return _now().ngettext(singular, plural, count)


# click's modules that mark their messages with the standard library's gettext functions
CLICK_MODULES = (
    "core",
    "decorators",
    "exceptions",
    "formatting",
    "parser",
    "shell_completion",
    "termui",
    "types",
    "utils",
    "_termui_impl",
)


def translate_click() -> None:
    """Make click's own words (``Usage:``, ``Error:``, ``No such option``, its prompts) follow
    the invocation's language. click calls the standard library's ``gettext``, which would take
    the language from ``$LANGUAGE`` and the default domain; setting those would reach every
    child process too (a configured probe command's output is matched against a pattern), so
    click's modules are pointed at its catalog here instead, for this process only."""
    import importlib

    in_click_catalog = {
        "_": lambda message: _now(CLICK_DOMAIN).gettext(message),
        "ngettext": lambda one, many, n: _now(CLICK_DOMAIN).ngettext(one, many, n),
    }
    for name in CLICK_MODULES:
        module = importlib.import_module(f"click.{name}")
        for function, translated in in_click_catalog.items():
            if hasattr(module, function):
                setattr(module, function, translated)
