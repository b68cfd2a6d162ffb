"""Issue 10 item 7: checklist templates are bounded: no output, loop or number exhausts us.

Each attack goes into one item's title; the load refuses it in one line (exit 2) naming
the file, line and item, within seconds and without the memory the template asked for.
"""

from __future__ import annotations

import pytest

from tests.attack.conftest import assert_one_line_error
from tests.checklist.conftest import write_checklist

BOUND_S = 30  # the time bound of one value is 2 s; the rest is start-up

ATTACKS = {
    "huge range": "{{ range(10**8) | list }}",
    "string repeat": "{{ 'a' * 10**9 }}",
    "repeat just past the bound": "{{ 'abc' * 30000 }}",
    "big exponent": "{{ 10 ** 100000 }}",
    "power chain": "{{ ((10 ** 60) ** 60) ** 60 }}",
    "center": "{{ 'x' | center(10**9) }}",
    "str method": "{{ 'x'.ljust(10**9) }}",
    "nested loops": "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
    "output flood": "{% for i in range(99999) %}{{ 'a' * 90000 }}{% endfor %}",
    "namespace doubling": "{% set ns = namespace(x='a') %}{% for i in range(60) %}{% set ns.x = ns.x ~ ns.x %}{% endfor %}{{ ns.x }}",
    "list growth": "{% set l = [] %}{% for i in range(10) %}{{ l.append(i) }}{% endfor %}",
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_template_past_its_bound_is_refused(ppe, site_dir, attack):
    write_checklist(
        site_dir / "checklists",
        "bomb",
        [
            {"id": "fine", "title": "{{ site.point.code }}", "manual": "ok?"},
            {"id": "greedy", "title": ATTACKS[attack], "manual": "ok?"},
        ],
    )
    ran = ppe("check", "run", "bomb", "--no-input", timeout=BOUND_S)
    line = assert_one_line_error(ran, 2)
    assert "bomb.yaml:" in line and "items[1].title" in line, line
    assert len(line) < 500, line  # the error says what, never echoes the giant value
    assert not (site_dir / "ppe.db").exists() or b"greedy" not in (site_dir / "ppe.db").read_bytes()


def test_bounded_template_names_the_item(ppe, site_dir):
    write_checklist(
        site_dir / "checklists",
        "bomb",
        [
            {"id": "greedy", "title": "{{ 'a' * 10**9 }}", "manual": "ok?"},
        ],
    )
    line = assert_one_line_error(ppe("check", "run", "bomb", timeout=BOUND_S), 2)
    assert "item 'greedy'" in line and "went past its bound" in line


def test_ordinary_templates_still_render(ppe, site_dir):
    write_checklist(
        site_dir / "checklists",
        "fine",
        [
            {
                "id": "ok",
                "title": "{% for i in range(3) %}{{ i }}{% endfor %} {{ 'ab' * 3 }} {{ 2 ** 10 }}",
                "probe": {"type": "command", "argv": ["true"]},
            },
        ],
    )
    ran = ppe("check", "run", "fine", "--no-input", "--json", timeout=BOUND_S)
    assert ran.returncode == 0, str(ran)
    assert '"title_en": "012 ababab 1024"' in ran.stdout
