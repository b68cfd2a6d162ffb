"""station import refuses edited files, other points, other exams, unknown keys and stations,
one line each naming the file, and still imports the others."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from ppe_tech.site import load_site
from ppe_tech.stations.resultfile import SUFFIX, write_result
from ppe_tech.stations.run import StationRequest, run_station
from ppe_tech.stations.signing import enroll, load_signing_key
from tests.conftest import write_site
from tests.stations.conftest import station_config

ANSWERS = ("station-identity", "approved-software-only", "test-page")


def make_result(site, stick_site: Path, station_id: str, out: Path, exam_id: str) -> Path:
    """A real station run (in this process) written to ``out`` with the stick's key."""
    from ppe_tech.checklist.answers import parse_confirm

    stick = load_site(stick_site)
    request = StationRequest(
        station=stick.station(station_id),
        exam=stick.exam(exam_id),
        answers=parse_confirm(ANSWERS, "tester"),
    )
    return write_result(out, run_station(stick, request), load_signing_key(stick))


@pytest.fixture
def stick_of(tmp_path: Path):
    def make(site_folder: Path, name: str, exam_id: str = "2026-05-28-math") -> Path:
        site = load_site(site_folder)
        return enroll(site, site.exam(exam_id), tmp_path / name).stick_site

    return make


def test_each_bad_file_refused_with_its_reason(checked_site, tmp_path, stick_of, cli):
    site = load_site(checked_site)
    folder = tmp_path / "results"
    good = make_result(
        site, stick_of(checked_site, "stick"), "print-0001", folder, "2026-05-28-math"
    )
    other = make_result(
        site, stick_of(checked_site, "stick"), "print-0002", folder, "2026-05-28-math"
    )

    edited = folder / f"edited{SUFFIX}"
    doc = json.loads(other.read_text())
    doc["payload"]["items"][0]["status"] = (
        "pass" if doc["payload"]["items"][0]["status"] != "pass" else "fail"
    )
    edited.write_text(json.dumps(doc, ensure_ascii=False, indent=1))

    # another point (its own site and key), another exam (a key enrolled for physics)
    foreign_site = write_site(
        tmp_path / "other-point",
        station_config(point={"code": "0202", "name": "School 7"}, checks=site.doc.data["checks"]),
    )
    foreign = make_result(
        site, stick_of(foreign_site, "stick-0202"), "print-0001", tmp_path, "2026-05-28-math"
    )
    shutil.move(foreign, folder / f"foreign{SUFFIX}")
    physics = make_result(
        site,
        stick_of(checked_site, "stick-phys", "2026-05-29-physics"),
        "print-0001",
        tmp_path,
        "2026-05-29-physics",
    )
    shutil.move(physics, folder / f"physics{SUFFIX}")

    # a key of this point enrolled on another technician machine (its public half is not here)
    twin = write_site(tmp_path / "twin", json.loads(json.dumps(site.doc.data)))
    unknown = make_result(
        site, stick_of(twin, "stick-twin"), "print-0001", tmp_path, "2026-05-28-math"
    )
    shutil.move(unknown, folder / f"unknown-key{SUFFIX}")

    # a station this ppe.yaml does not have, signed with a good key
    stick_site = tmp_path / "stick" / "ppe-station"
    extra = station_config(checks=site.doc.data["checks"])
    extra["stations"] = [*extra["stations"], {"id": "print-0099", "role": "print", "room": "0001"}]
    write_site(stick_site, extra)
    stray = make_result(site, stick_site, "print-0099", tmp_path, "2026-05-28-math")
    shutil.move(stray, folder / f"stray{SUFFIX}")
    (folder / f"garbage{SUFFIX}").write_text("not json")

    result = cli("station", "import", str(folder), "--exam", "2026-05-28-math")
    assert result.exit_code == 1
    lines = sorted(result.stderr.strip().splitlines())
    assert lines == [
        f"ppe-tech: refused: edited{SUFFIX}: signature does not match: the file was changed after the station wrote it",
        f"ppe-tech: refused: foreign{SUFFIX}: from another point (0202; this point is 0101)",
        f"ppe-tech: refused: garbage{SUFFIX}: not a station result file (not JSON)",
        f"ppe-tech: refused: physics{SUFFIX}: for another exam (2026-05-29-physics; importing for 2026-05-28-math)",
        f"ppe-tech: refused: stray{SUFFIX}: unknown station 'print-0099' (not in ppe.yaml)",
        lines[5],
    ]
    assert lines[5].startswith(
        f"ppe-tech: refused: unknown-key{SUFFIX}: signed with an unknown key "
    )
    assert result.stdout.strip() == "imported 2, already imported 0, refused 6"
    assert {p.name for p in folder.iterdir()} >= {
        good.name,
        other.name,
    }  # sources kept as they were


def test_a_file_for_another_exam_than_its_key_is_refused(checked_site, tmp_path, stick_of, cli):
    site = load_site(checked_site)
    stick_site = stick_of(checked_site, "stick")  # enrolled for math
    path = make_result(site, stick_site, "print-0001", tmp_path / "r", "2026-05-29-physics")
    result = cli("station", "import", str(path.parent))
    assert result.exit_code == 1
    assert "exam 2026-05-29-physics but the key was enrolled for 2026-05-28-math" in result.stderr


def test_import_of_a_missing_folder_is_exit_3(cli, tmp_path):
    result = cli("station", "import", str(tmp_path / "nowhere"))
    assert result.exit_code == 3 and result.stderr.startswith("ppe-tech: error: ")


def test_the_stick_key_is_private(checked_site, stick_of):
    stick_site = stick_of(checked_site, "stick")
    key_file = stick_site / "keys" / "station-signing.json"
    assert key_file.stat().st_mode & 0o777 == 0o600
    stick_config = yaml.safe_load((stick_site / "ppe.yaml").read_text())
    assert "cameras" not in stick_config and "signing" not in stick_config  # no camera passwords
    public = list((checked_site / "keys" / "stations").glob("*.json"))
    assert len(public) == 1 and "private_key" not in public[0].read_text()
