"""Issue 10 item 16: an archive to a folder that is not there is refused, never made.

An unmounted USB stick leaves its mount point (or nothing) behind: making the folder with its
parents would write the exam's footage onto the local disk under it. Each case: exit code, one
``ppe-tech: error:`` line and no traceback, within a generous bound, nothing created, nothing
stored, the sources untouched.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ppe_tech.recordings import archive
from ppe_tech.recordings.results import latest_archive
from ppe_tech.store import connect
from tests.conftest import tmpfs_at, write_site
from tests.recordings.conftest import EXAM, day_root, rec_config, segments  # noqa: F401 - fixtures

BOUND = 120  # seconds: generous, the refusals come before the first byte is copied


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def archive_cli(cli, *args: str):
    began = time.monotonic()
    result = cli("recordings", "archive", "--exam", EXAM, *args)
    assert time.monotonic() - began < BOUND
    return result


def assert_one_line_error(result, code: int, contains: str) -> None:
    assert result.exit_code == code, result.stderr
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("ppe-tech: error:")]
    assert len(errors) == 1 and contains in errors[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.fixture
def site(site_dir, day_root):  # noqa: F811 - the fixture imported above
    return write_site(site_dir, rec_config(day_root))


def nothing_stored(site: Path) -> bool:
    return latest_archive(connect(site / "ppe.db")) is None


@pytest.mark.parametrize(
    "missing", ["usb", "media/usb/archive", "mnt/stick/ppe/archive"], ids=["one", "two", "three"]
)
def test_to_a_missing_folder_is_refused(site, day_root, cli, tmp_path, missing):  # noqa: F811
    before = tree(day_root)
    target = tmp_path / "gone" / missing
    result = archive_cli(cli, "--to", str(target))
    assert_one_line_error(result, 2, "no such folder (is the disk mounted?)")
    assert not (tmp_path / "gone").exists()  # neither the folder nor any of its parents made
    assert nothing_stored(site) and tree(day_root) == before


def test_to_a_file_is_refused(site, cli, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("not a folder")
    assert_one_line_error(archive_cli(cli, "--to", str(target)), 2, "not a folder")
    assert target.read_text() == "not a folder" and nothing_stored(site)


def test_default_target_outside_the_site_folder_is_not_made(site_dir, day_root, cli, tmp_path):  # noqa: F811
    stick = tmp_path / "stick" / "archive"
    write_site(site_dir, rec_config(day_root, archive={"target": str(stick)}))
    assert_one_line_error(archive_cli(cli), 2, "archive.target")
    assert not (tmp_path / "stick").exists() and nothing_stored(site_dir)


def test_default_target_in_the_site_folder_is_made(site, cli):
    result = archive_cli(cli, "--json")
    assert result.exit_code == 0, result.stderr
    assert Path(json.loads(result.stdout)["bag_path"]).parent == site / "archive"


@pytest.fixture
def media(tmp_path, monkeypatch) -> Path:
    """A stand-in for /media: the removable roots are configuration, pointed at a tmp folder."""
    root = tmp_path / "media"
    root.mkdir()
    monkeypatch.setattr(archive, "REMOVABLE_ROOTS", (root,))
    return root


def test_removable_default_target_not_mounted_warns(site_dir, day_root, cli, media):  # noqa: F811
    folder = media / "usb" / "archive"
    folder.mkdir(parents=True)  # left behind by an unmounted stick, say
    write_site(site_dir, rec_config(day_root, archive={"target": str(folder)}))
    result = archive_cli(cli, "--json")
    assert result.exit_code == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if "not on a mounted disk" in line]
    assert len(warning) == 1 and str(folder) in warning[0]
    assert json.loads(result.stdout)["file_count"] == 69


def test_removable_default_target_mounted_does_not_warn(site_dir, day_root, cli, media):  # noqa: F811
    with tmpfs_at(media / "usb", "64m") as stick:
        (stick / "archive").mkdir()
        write_site(site_dir, rec_config(day_root, archive={"target": str(stick / "archive")}))
        result = archive_cli(cli, "--json")
        assert result.exit_code == 0, result.stderr
        assert "not on a mounted disk" not in result.stderr
        assert Path(json.loads(result.stdout)["bag_path"]).is_relative_to(stick)
