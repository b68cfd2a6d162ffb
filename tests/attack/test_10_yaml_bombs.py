"""Issue 10 item 10: YAML anchor bombs, deep nesting and recursive aliases are refused, fast.

In ppe.yaml and in a checklist: exit 2, one line naming file:line, within a few seconds and
without growing memory (the bomb below would expand to 10**9 values).
"""

from __future__ import annotations

import pytest

from tests.attack.conftest import assert_one_line_error
from tests.conftest import minimal_config, write_site

BOUND_S = 20  # each is refused in well under a second; the bound is the interpreter start


def laughs(levels: int = 9) -> str:
    """The 'billion laughs': each level is ten aliases of the one before."""
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


ATTACKS = {
    "anchor bomb": (laughs(), "aliases expand to more than"),
    "deep nesting": ("deep: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than"),
    "deep mappings": (
        "".join("  " * i + f"k{i}:\n" for i in range(300)) + "  " * 300 + "x: 1\n",
        "nested deeper than",
    ),
    "recursive alias": ("loop: &loop [1, *loop]\n", "recursive alias"),
    "recursive mapping": ("loop: &loop {self: *loop}\n", "recursive alias"),
    "alias chain deeper than the bound": (
        "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 3000)),
        "aliases nest deeper than",
    ),
    "NUL byte": ("x: 1\ny: 'a\x00b'\n", "character #x0000"),
    "a list as a key": ("? [a, b]\n: c\n", "invalid YAML"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_ppe_yaml_attack_refused(ppe, site_dir, attack):
    text, expected = ATTACKS[attack]
    base = (site_dir / "ppe.yaml").read_text()
    (site_dir / "ppe.yaml").write_text(base + text)
    ran = ppe("site", "show", timeout=BOUND_S)
    line = assert_one_line_error(ran, 2, contains=expected)
    assert "ppe.yaml:" in line


@pytest.mark.parametrize("attack", ["anchor bomb", "deep nesting", "recursive alias"])
def test_checklist_attack_refused(ppe, site_dir, attack):
    write_site(site_dir, minimal_config())
    text, expected = ATTACKS[attack]
    folder = site_dir / "checklists"
    folder.mkdir(exist_ok=True)
    (folder / "bomb.yaml").write_text("title: Bomb\nsections: []\n" + text)
    ran = ppe("check", "run", "bomb", "--no-input", timeout=BOUND_S)
    assert_one_line_error(ran, 2, contains=expected)
    assert "bomb.yaml:" in ran.stderr
    assert not (site_dir / "ppe.db").exists() or "check_results" not in ran.stdout


def test_non_utf8_config_names_the_line(ppe, site_dir):
    with (site_dir / "ppe.yaml").open("ab") as fh:
        fh.write(b"extra: caf\xe9\n")
    assert_one_line_error(ppe("site", "show", timeout=BOUND_S), 2, contains="not UTF-8")
