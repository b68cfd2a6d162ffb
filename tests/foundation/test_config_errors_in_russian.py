"""A Russian point's own configuration errors are said in Russian, before anything else is
known of the site: the file's ``point.language`` (ru by default) is read before it is
validated, and pydantic's English wording is replaced for the kinds a hand-written file makes."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.conftest import english_left, minimal_config, write_site

WHERE = re.compile(r"ppe\.yaml:\d+: [\w\[\].]+: ")  # file, line and field: named as written
QUOTED = re.compile(r"'[^']*'")  # the value as the user wrote it


def _ru_config(**point) -> dict:
    config = minimal_config()
    config["point"] = {**config["point"], "language": "ru", **point}
    config["cameras"] = [
        {
            "id": "corridor-1",
            "zone": "corridor",
            "source": "rtsp://10.0.0.21/stream1",
            "expect": {"width": 1280, "height": 720, "fps": 15},
        }
    ]
    return config


def _break(config: dict, path: tuple, value) -> dict:
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return config


@pytest.mark.parametrize(
    ("path", "value", "said"),
    [
        (("cameras", 0, "expect", "fps"), "fast", "'fast' — не число"),
        (("cameras", 0, "expect", "fps"), -3, "должно быть больше 0"),
        (("cameras", 0, "expect", "width"), 12.5, "12.5 — не целое число"),
        (("cameras", 0, "expect"), [1], "должно быть словарём (ключ: значение)"),
        (("exams",), "math", "должно быть списком"),
        (("exams", 0, "duration"), "soon", "'soon' — не длительность"),
        (("point", "bogus"), 1, "неизвестное поле"),
        (("exams", 0, "start"), "ten", "'ten'"),
    ],
)
def test_site_errors_in_the_points_language(cli, site_dir, monkeypatch, path, value, said):
    monkeypatch.delenv("PPE_LANG", raising=False)
    write_site(site_dir, _break(_ru_config(), path, value))
    result = cli("site", "show")
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ppe-tech: ошибка: ppe.yaml:"), result.stderr
    assert said in lines[0]
    assert english_left(QUOTED.sub(" ", WHERE.sub(" ", lines[0])), site_dir) == []


def test_a_site_without_a_language_is_russian(cli, site_dir, monkeypatch):
    monkeypatch.delenv("PPE_LANG", raising=False)
    config = _break(_ru_config(), ("cameras", 0, "expect", "fps"), "fast")
    del config["point"]["language"]
    write_site(site_dir, config)
    assert "не число" in cli("site", "show").stderr


def test_ppe_lang_still_wins(cli, site_dir, monkeypatch):
    monkeypatch.setenv("PPE_LANG", "en")
    write_site(site_dir, _break(_ru_config(), ("cameras", 0, "expect", "fps"), "fast"))
    assert "'fast' is not a number" in cli("site", "show").stderr


def test_an_unknown_probe_type_in_russian(cli, site_dir, monkeypatch, tmp_path):
    monkeypatch.delenv("PPE_LANG", raising=False)
    write_site(site_dir, _ru_config())
    checklist = tmp_path / "bad.yaml"
    checklist.write_text(
        yaml.safe_dump(
            {
                "title": "Проверка",
                "sections": [
                    {
                        "id": "s",
                        "title": "Раздел",
                        "items": [{"id": "a", "title": "А", "probe": {"type": "bogus"}}],
                    }
                ],
            },
            allow_unicode=True,
        )
    )
    result = cli("check", "run", str(checklist), "--no-input")
    assert result.exit_code == 2, result.stderr
    line = result.stderr.strip()
    assert (
        line.startswith("ppe-tech: ошибка: bad.yaml:")
        and "неизвестный тип проверки 'bogus'" in line
    )
