"""The tool's own PAK journal entries are deliberate: one per check, short, in the point's
language, naming a responsible person only when one is known (issue 12 item 6)."""

from __future__ import annotations

import pytest

from ppe_tech.cameras.pak_entry import summary
from ppe_tech.cameras.results import CameraResult, CameraRun
from ppe_tech.cameras.verify import run_verification
from ppe_tech.pak.journal import list_entries
from ppe_tech.site import load_site
from ppe_tech.store import connect
from tests.cameras.conftest import camera
from tests.conftest import minimal_config, write_site


@pytest.fixture
def site_of(tmp_path, footage):
    """A site with a good and a covered file camera; ``language`` and extra staff as asked."""

    def make(language: str = "en", **staff):
        config = minimal_config(
            cameras=[
                camera("aud-1", str(footage["variants"]["untouched"])),
                camera("aud-2", str(footage["variants"]["covered"])),
            ]
        )
        config["point"]["language"] = language
        config["staff"].update(staff)
        folder = write_site(tmp_path / "site", config)
        (folder / "references").mkdir()
        for cam_id in ("aud-1", "aud-2"):
            (folder / "references" / f"{cam_id}.png").write_bytes(footage["reference"].read_bytes())
        return load_site(folder)

    return make


def _checks(conn):
    return list_entries(conn, action="performance_check")


def test_a_repeated_verification_adds_no_entry(site_of):
    site = site_of()
    conn = connect(site.db_path)
    first = run_verification(site, conn, sample=1.0).to_json()
    again = run_verification(site, conn, ["aud-2"], sample=1.0).to_json()
    assert first["pak_entry_new"] and not again["pak_entry_new"]
    assert again["pak_entry"] == first["pak_entry"]
    rows = _checks(conn)
    assert len(rows) == 1 and rows[0]["no"] == first["pak_entry"]
    assert rows[0]["note"] == "checked 2 cameras: 1 ok, 1 fail (aud-2: covered)"
    # another exam is another check
    other = run_verification(site, conn, exam_id="2026-05-28-math", sample=1.0).to_json()
    assert other["pak_entry_new"] and len(_checks(conn)) == 2


def test_the_checklist_probe_after_verify_adds_no_entry(site_of):
    from ppe_tech.checklist.probes import ProbeContext
    from ppe_tech.checklist.probes.cameras import CamerasSpec, cameras

    site = site_of()
    conn = connect(site.db_path)
    run_verification(site, conn, sample=1.0)
    spec = CamerasSpec.model_validate({"type": "cameras", "sample": "1s"})
    outcome = cameras(spec, ProbeContext(site=site, timeout=60))
    assert "1/2 ok" in outcome.value
    assert len(_checks(conn)) == 1


def test_note_in_russian_and_no_responsible_unless_known(site_of):
    site = site_of("ru")
    conn = connect(site.db_path)
    run_verification(site, conn, sample=1.0)
    row = _checks(conn)[0]
    assert row["note"] == "проверено 2 камеры: 1 исправна, 1 неисправна (aud-2: закрыта)"
    assert row["responsible"] == "" and row["responsible_role"] is None  # nobody asked her


def test_responsible_named_or_the_video_role(site_of):
    site = site_of(video={"name": "Kuznetsova O.P.", "position": "responsible for video"})
    conn = connect(site.db_path)
    run_verification(site, conn, exam_id="2026-05-28-math", sample=1.0)
    run_verification(site, conn, sample=1.0, responsible="head")
    video, named = _checks(conn)
    assert video["responsible"] == "Kuznetsova O.P., responsible for video"
    assert named["responsible"] == "Petrov A.A., head of the exam point"


@pytest.mark.parametrize(
    ("n", "ok", "text"),
    [
        (1, 1, "проверена 1 камера"),
        (5, 5, "проверено 5 камер: 5 исправны"),
        (21, 21, "проверена 21 камера: 21 исправна"),
        (22, 21, "проверено 22 камеры: 21 исправна, 1 неисправна (c0: закрыта)"),
    ],
)
def test_russian_counts(n, ok, text):
    def cam(cam_id: str, status: str, codes: list[str]) -> CameraResult:
        findings = [{"code": c} for c in codes]
        return CameraResult(cam_id, "auditorium", "", "", status, findings, {}, None)

    cams = [cam(f"c{i}", "fail", ["covered"]) for i in range(n - ok)]
    cams += [cam(f"ok{i}", "ok", []) for i in range(ok)]
    run = CameraRun(1, "2026-05-28T05:00:00+00:00", None, None, 3.0, "all", "fail", None, cams)
    assert summary(run, "ru").startswith(text)
