"""Bad input: one line naming file, line and field; exit 2; never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

# these sites leave point.language at its default, ru: the English wording is asserted here,
# the Russian in test_config_errors_in_russian.py
pytestmark = pytest.mark.usefixtures("english")

GOOD_SITE = """\
point: {code: "0101", name: "School No. 5", timezone: Europe/Moscow}
staff:
  technician: {name: "Ivanov I.I.", position: "technical specialist"}
  head: {name: "Petrov A.A.", position: "head of the exam point"}
exams:
  - {id: math, subject: Mathematics, date: 2026-05-28, start: "10:00", duration: 3h55m}
cameras:
  - id: corridor-1
    zone: corridor
    source: rtsp://viewer:${CAM_PASSWORD}@10.0.0.21:554/stream1
"""


def assert_one_line_error(result, exit_code: int, *fragments: str) -> str:
    assert result.exit_code == exit_code, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ppe-tech: error: ")
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture
def site_text(site_dir: Path, monkeypatch):
    monkeypatch.setenv("CAM_PASSWORD", "pw")

    def write(text: str) -> None:
        (site_dir / "ppe.yaml").write_text(text)

    return write


@pytest.mark.parametrize(
    ("replace", "with_", "fragments"),
    [
        (
            "zone: corridor",
            "zone: hall",
            [
                "ppe.yaml:9: cameras[0].zone: 'hall' is not one of auditorium, corridor, entrance, staff-room"
            ],
        ),
        (
            "    source:",
            "    colour: red\n    source:",
            ["ppe.yaml:10: cameras[0].colour: unknown field"],
        ),
        (
            "duration: 3h55m",
            "duration: 3 hours",
            ["ppe.yaml:6: exams[0].duration:", "is not a duration"],
        ),
        (
            "timezone: Europe/Moscow",
            "timezone: Mars/Olympus",
            ["ppe.yaml:1: point.timezone:", "not a known time zone"],
        ),
        ("  head: {name", "  boss: {name", ["staff.head is required"]),
        ('{code: "0101",', '{code: "0101"', ["ppe.yaml:1: invalid YAML"]),
        ("exams:", "exams: [\n", ["ppe.yaml:", "invalid YAML"]),
        (
            "  technician:",
            "  head: {name: X, position: Y}\n  technician:",
            ["ppe.yaml:5: staff.head: duplicate key"],
        ),
    ],
)
def test_site_errors(cli, site_text, replace, with_, fragments):
    assert replace in GOOD_SITE
    site_text(GOOD_SITE.replace(replace, with_, 1))
    assert_one_line_error(cli("site", "show"), 2, *fragments)


def test_unset_secret(cli, site_text, monkeypatch):
    site_text(GOOD_SITE)
    monkeypatch.delenv("CAM_PASSWORD")
    assert_one_line_error(
        cli("site", "show"),
        2,
        "ppe.yaml:10: cameras[0].source: environment variable CAM_PASSWORD is not set",
    )


def test_no_site_anywhere(cli, monkeypatch, tmp_path):
    monkeypatch.delenv("PPE_SITE")
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(cli("site", "show"), 2, "no ppe.yaml", "ppe-tech init")
    assert_one_line_error(cli("--site", str(tmp_path), "site", "show"), 2, "--site", "no ppe.yaml")


CHECKLIST_HEAD = "title: {ru: Тест, en: Test}\n"


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        (
            "sections:\n  - id: s\n    title: S\n    items:\n      - id: a\n        title: A\n        probe: {type: tcp, host: x, port: 1\n",
            ["bad.yaml:", "invalid YAML"],
        ),
        (
            "sections:\n  - id: s\n    title: S\n    items:\n      - id: a\n        title: A\n        colour: red\n        manual: ok?\n",
            ["bad.yaml:8: sections[0].items[0].colour: unknown field"],
        ),
        (
            "sections:\n  - id: s\n    title: S\n    items:\n      - id: a\n        title: A\n        probe: {type: telepathy}\n",
            ["bad.yaml:8: sections[0].items[0].probe.type: unknown probe type 'telepathy'", "tcp"],
        ),
        (
            "sections:\n  - id: s\n    title: S\n    items:\n      - id: a\n        title: A\n        manual: ok?\n      - id: a\n        title: B\n        manual: ok?\n",
            ["bad.yaml:9: sections[0].items[1].id: duplicate item id 'a' (first at bad.yaml:6)"],
        ),
        (
            "sections:\n  - id: s\n    title: S\n    items:\n      - id: a\n        title: A\n        manual: ok?\n        timeout: 5 parsecs\n",
            ["bad.yaml:9: sections[0].items[0].timeout:", "is not a duration"],
        ),
        (
            "include: [nowhere.yaml]\nsections: []\n",
            ["bad.yaml:2: include[0]: included checklist 'nowhere.yaml' not found"],
        ),
        (
            "include: [../../etc/passwd]\nsections: []\n",
            ["bad.yaml:2: include[0]:", "escapes its folder"],
        ),
        (
            "sections:\n  - id: s\n    title: S\n    items:\n      - id: a\n        title: A\n        probe: {type: tcp, host: x, port: 99999}\n",
            ["bad.yaml:8: sections[0].items[0].probe.port:", "65535"],
        ),
        (
            "sections:\n  - id: s\n    title: S\n    items:\n      - id: a\n        title: A\n        probe: {type: tcp, host: '{{ site.checks.vars.nothing }}', port: 1}\n",
            ["bad.yaml:8: sections[0].items[0].probe.host: template error"],
        ),
        (
            "sections:\n  - id: s\n    title: S\n    items:\n      - id: a\n        title: A\n",
            ["bad.yaml:6: sections[0].items[0]: an item needs exactly one of 'probe' or 'manual'"],
        ),
    ],
)
def test_checklist_errors(cli, site_dir, body, fragments):
    (site_dir / "checklists").mkdir(exist_ok=True)
    (site_dir / "checklists" / "bad.yaml").write_text(CHECKLIST_HEAD + body)
    assert_one_line_error(cli("check", "run", "bad"), 2, *fragments)


def test_include_cycle_and_unknown_checklist(cli, site_dir):
    folder = site_dir / "checklists"
    folder.mkdir(exist_ok=True)
    (folder / "a.yaml").write_text(CHECKLIST_HEAD + "include: [b.yaml]\n")
    (folder / "b.yaml").write_text(CHECKLIST_HEAD + "include: [a.yaml]\n")
    assert_one_line_error(cli("check", "run", "a"), 2, "include cycle")
    assert_one_line_error(
        cli("check", "run", "no-such-list"), 2, "no checklist 'no-such-list'", "pre-exam"
    )


def test_bad_answers(cli, site_dir, tmp_path):
    folder = site_dir / "checklists"
    folder.mkdir(exist_ok=True)
    (folder / "m.yaml").write_text(
        CHECKLIST_HEAD
        + 'sections:\n  - id: s\n    title: S\n    items:\n      - {id: seals, title: S, manual: "ok?"}\n'
    )
    answers = tmp_path / "answers.yaml"
    answers.write_text("seals: maybe\n")
    assert_one_line_error(
        cli("check", "run", "m", "--answers", str(answers)),
        2,
        "answers.yaml:1: seals: 'maybe' is not one of yes, no, skip",
    )
    assert_one_line_error(
        cli("check", "run", "m", "--confirm", "sealz"), 2, "item 'sealz' is not in the checklist"
    )
    assert_one_line_error(cli("check", "run", "m", "--exam", "nope"), 2, "unknown exam 'nope'")
    assert_one_line_error(cli("check", "show", "99"), 2, "no checklist run 99")


def test_a_duplicate_camera_points_at_the_duplicate(cli, site_text):
    second = "  - id: corridor-1\n    zone: entrance\n    source: /dev/video0\n"
    site_text(GOOD_SITE + second)
    assert_one_line_error(
        cli("site", "show"),
        2,
        "ppe.yaml:11: cameras[1].id: duplicate id 'corridor-1' (first at ppe.yaml:8)",
    )


@pytest.mark.parametrize(
    ("replace", "with_", "line"),
    [
        ("    zone: corridor", "      zone: corridor", 9),  # one step too far
        ("  head: {name", " head: {name", 4),  # one step too little
    ],
)
def test_an_indentation_slip_is_named(cli, site_text, replace, with_, line):
    site_text(GOOD_SITE.replace(replace, with_, 1))
    message = assert_one_line_error(cli("site", "show"), 2, "invalid YAML")
    assert f"check the indentation of line {line}" in message
