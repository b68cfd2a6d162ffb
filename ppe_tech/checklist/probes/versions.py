"""Version checks shared by the probes that read a version (software, registry)."""

from __future__ import annotations

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from ppe_tech.checklist.probes import Outcome
from ppe_tech.i18n import _
from ppe_tech.userregex import user_regex

DEFAULT_PATTERN = r"(\d+(?:\.\d+)+)"  # the first dotted number


def check_constraint(value: str) -> str:
    """A pydantic validator's body: ``value`` must be a constraint such as ``>=26.1,<27``."""
    try:
        SpecifierSet(value)
    except InvalidSpecifier:
        raise ValueError(f"{value!r} is not a version constraint (e.g. >=26.1)") from None
    return value


def version_outcome(text: str, constraint: str, pattern: str = DEFAULT_PATTERN) -> Outcome:
    """Find the version in ``text`` (first group of ``pattern``) and check it against ``constraint``."""
    match = user_regex(pattern).search(text)
    if not match:
        return Outcome.failed(_("no version found"), text.strip()[:200], constraint)
    found = match.group(1) if match.groups() else match.group(0)
    try:
        satisfied = Version(found) in SpecifierSet(constraint)
    except InvalidVersion:
        return Outcome.failed(
            _("{found} is not a version").format(found=repr(found)), found, constraint
        )
    if not satisfied:
        return Outcome.failed(
            _("version {found} does not satisfy {constraint}").format(
                found=found, constraint=constraint
            ),
            found,
            constraint,
        )
    return Outcome.passed(found, constraint)
