"""Issue 10 item 17: a bag whose files were deleted and whose manifests were re-made is INVALID.

bagit.py re-makes a bag's manifests, Payload-Oxum and tag manifest in one call, after which the
bag is self-consistent and passes any BagIt validator. The site's store recorded the bag when
it was written (every file and checksum, the manifest's hash), and so does ppe-archive.json:
``recordings verify`` compares the bag with that record when the site knows the bag, and says
so when it does not. Each case: the exit code, the verdict line, no traceback, a generous time
bound, and the bag's remaining files untouched by the check.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import bagit
import pytest

from tests.conftest import write_site
from tests.recordings.conftest import EXAM, day_root, rec_config, segments  # noqa: F401 - fixtures

BOUND = 120  # seconds, generous


@pytest.fixture
def bag(site_dir, day_root, cli) -> Path:  # noqa: F811 - the fixture imported above
    write_site(site_dir, rec_config(day_root))
    result = cli("recordings", "archive", "--exam", EXAM, "--json")
    assert result.exit_code == 0, result.stderr
    return Path(json.loads(result.stdout)["bag_path"])


def verify(cli, bag: Path, *extra: str):
    began = time.monotonic()
    result = cli("recordings", "verify", str(bag), *extra)
    assert time.monotonic() - began < BOUND
    assert "Traceback" not in result.stdout + result.stderr
    return result


def payload(bag: Path) -> dict[str, bytes]:
    return {p.relative_to(bag).as_posix(): p.read_bytes() for p in (bag / "data").rglob("*.mp4")}


def rebuild_without(bag: Path, count: int) -> list[str]:
    """Delete ``count`` payload files and re-make every manifest with bagit.py."""
    gone = sorted(payload(bag))[:count]
    for rel in gone:
        (bag / rel).unlink()
    rebuilt = bagit.Bag(str(bag))
    rebuilt.save(manifests=True)
    bagit.Bag(str(bag)).validate()  # the Library of Congress validator now finds it fine
    return gone


def test_untouched_bag_matches_the_sites_record(bag, cli):
    result = verify(cli, bag, "--json")
    assert result.exit_code == 0, result.stdout
    data = json.loads(result.stdout)
    assert data["valid"] and data["site"]["known"] and data["site"]["matches"]
    assert "matches the site's record" in verify(cli, bag).stdout


@pytest.mark.parametrize("mode", [[], ["--fast"]], ids=["full", "fast"])
def test_files_deleted_and_manifests_remade_is_invalid(bag, cli, mode):
    gone = rebuild_without(bag, 3)
    left = payload(bag)
    result = verify(cli, bag, *mode, "--json")
    assert result.exit_code == 1, result.stdout
    data = json.loads(result.stdout)
    assert not data["valid"] and data["site"] == {
        "known": True,
        "matches": False,
        "run_id": 1,
        "note": "does not match the site's record (run 1)",
    }
    kinds = {(p["kind"], p.get("path")) for p in data["problems"]}
    assert ("site-record", None) in kinds
    assert {("missing", rel) for rel in gone} <= kinds  # each deleted file named
    text = verify(cli, bag, *mode)
    assert text.exit_code == 1 and "INVALID" in text.stdout
    assert "69 files" in text.stdout and "66 files" in text.stdout  # what was recorded, what is
    assert payload(bag) == left  # verify never changes the bag


def test_rebuilt_bag_moved_with_its_archive_record_rewritten_is_invalid(bag, cli, tmp_path):
    """A thorough forger: files deleted, ppe-archive.json made to agree, the bag moved away."""
    gone = set(rebuild_without(bag, 2))
    record = json.loads((bag / "ppe-archive.json").read_text())
    record["files"] = [f for f in record["files"] if f["path"] not in gone]
    record["file_count"] = len(record["files"])
    (bag / "ppe-archive.json").write_text(json.dumps(record))
    bagit.Bag(str(bag)).save(manifests=True)
    moved = tmp_path / "elsewhere" / bag.name
    moved.parent.mkdir()
    shutil.move(bag, moved)
    result = verify(cli, moved, "--json")
    assert result.exit_code == 1, result.stdout
    data = json.loads(result.stdout)
    assert data["site"]["known"] and not data["site"]["matches"]
    assert {p["kind"] for p in data["problems"]} >= {"site-record", "missing", "archive-json"}


def test_a_copy_of_the_bag_on_another_disk_still_matches(bag, cli, tmp_path):
    copy = tmp_path / "stick" / bag.name
    shutil.copytree(bag, copy)
    result = verify(cli, copy, "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["site"]["matches"]


def test_bag_the_site_does_not_know_is_checked_alone_and_says_so(bag, cli, site_dir, day_root):  # noqa: F811
    other = site_dir.parent / "other-site"
    write_site(other, rec_config(day_root))
    result = cli("--site", str(other), "recordings", "verify", str(bag))
    assert result.exit_code == 0, result.stdout
    assert "VALID" in result.stdout and "the site has no record of this bag" in result.stdout


def test_without_a_site_the_bag_is_checked_alone_and_says_so(bag, cli, tmp_path, monkeypatch):
    monkeypatch.delenv("PPE_SITE")
    monkeypatch.chdir(tmp_path)  # no ppe.yaml here or above
    rebuild_without(bag, 1)
    result = verify(cli, bag)
    assert result.exit_code == 0, result.stdout  # self-consistent, and nothing to compare with
    assert "no site: checked against the bag's own manifests only" in result.stdout.replace(
        "\n", " "
    )
