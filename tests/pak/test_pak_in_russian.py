"""Every pak command on the demo point (point.language ru) speaks Russian (issue 15): list, add,
start/end, actions, export, checkpoint, verify (intact and tampered) and audit with its
severities; no English word is left in what they print."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import english_left, ru_run
from tests.pak.helpers import edit, raw, recompute_chain


@pytest.fixture
def point(demo_ru: Path, tmp_path: Path) -> Path:
    """A private copy of the demo point (entries are added to its log)."""
    return Path(shutil.copytree(demo_ru, tmp_path / "point", symlinks=True))


def _russian(site: Path, *args: str, codes: tuple[int, ...] = (0,)) -> str:
    # wide enough that no table cell is folded (a room name cut in two is not a word of ours)
    done = ru_run(site, *args, columns=400)
    out = done.stdout + done.stderr
    assert done.returncode in codes, out
    assert english_left(out, site) == [], out
    return out


def test_the_log_in_russian(point: Path, tmp_path: Path):
    listed = _russian(point, "pak", "list")
    assert "Журнал доступа к видеонаблюдению: 10 записей" in listed, listed
    assert "Извлечение карты памяти" in listed and "выполнил" in listed, listed
    added = _russian(
        point, "pak", "add", "--action", "4", "--room", "Auditorium 0001", "--no-input"
    )
    assert added.startswith("добавлена запись №12: Извлечение карты памяти, Auditorium 0001, ")
    _russian(point, "pak", "start", "--action", "3", "--room", "Auditorium 0001", "--no-input")
    ended = _russian(point, "pak", "end")
    assert "завершено действие №13 записью №14" in ended, ended
    assert "4. Извлечение карты памяти" in _russian(point, "pak", "actions")
    _russian(point, "pak", "export", "--csv", "-o", str(tmp_path / "log.csv"))
    file = tmp_path / "checkpoint.txt"
    # the checkpoint itself is a signed machine format (its "time" line, the key's name)
    made = ru_run(point, "pak", "checkpoint", "-o", str(file))
    assert made.returncode == 0 and made.stdout == file.read_text(), made.stderr
    assert english_left(made.stderr, point) == [] and "записан файл " in made.stderr, made.stderr
    checked = _russian(point, "pak", "verify", "--checkpoint", str(file))
    assert "совпадает с журналом" in checked and "цепочка не нарушена" in checked, checked
    audited = _russian(point, "pak", "audit", codes=(1,))
    assert "высокая" in audited and "во время экзамена" in audited, audited
    assert "1 замечание (1 высокая, 0 средняя, 0 низкая)" in audited, audited


def test_a_tampered_log_is_named_in_russian(point: Path):
    conn = raw(point / "ppe.db")
    edit(conn, 6, note="ничего не извлекали")
    recompute_chain(conn)  # a careful forger: only the signed checkpoints catch it
    conn.close()
    out = _russian(point, "pak", "verify", codes=(1,))
    assert "ЖУРНАЛ ИЗМЕНЁН: первая неверная запись" in out and "журнал переписан" in out, out
    audited = _russian(point, "pak", "audit", codes=(1,))
    assert "журнал изменён" in audited, audited
