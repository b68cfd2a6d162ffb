"""Every region command on the demo point (point.language ru) speaks Russian (issue 15): push
(its summary), status (with and without the storage) and the regional review (its table, the
problems it finds, its summary); no English word is left in what they print."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import english_left, ru_run


def _russian(site: Path, *args: str, codes: tuple[int, ...] = (0,)) -> str:
    done = ru_run(site, *args)
    out = done.stdout + done.stderr
    assert done.returncode in codes, out
    assert english_left(out, site) == [], out
    return out


def test_push_status_and_review_in_russian(point, exams, s3_env, bucket):
    past, today = exams
    assert "ещё ничего не передано" in _russian(point, "region", "status", "--offline")
    pushed = _russian(point, "region", "push", "--exam", past)
    assert f"экзамен {past}: " in pushed and "контрольные суммы проверены" in pushed, pushed
    assert "защищено от изменения до " in pushed and " MSK" in pushed, pushed
    _russian(point, "region", "push", "--exam", today)
    status = _russian(point, "region", "status")
    assert "совпадает" in status and "завершена" in status, status
    _russian(point, "region", "status", "--offline")
    review = _russian(
        point, "region", "review", "--bucket", bucket, "--endpoint", s3_env.endpoint, codes=(1,)
    )
    # the demo's past exam has no checklist run: the one problem of the review, in Russian
    assert "нет записи о выполнении проверочного листа по экзамену (запись о передаче)" in review
    assert "проверено: 1 ППЭ, 2 экзамена" in review and "вовремя" in review, review
