"""The archiver and verifier on real segments: BagIt validity, tampering, resume, no space, bad input."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import bagit
import pytest

from ppe_tech.recordings.results import latest_archive
from ppe_tech.store import connect
from tests.conftest import REPO, tmpfs_at, write_site
from tests.recordings.conftest import EXAM, build_day, rec_config


def tree_hashes(root: Path) -> dict[str, tuple[str, int]]:
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            st = path.stat()
            out[path.relative_to(root).as_posix()] = (
                hashlib.sha256(path.read_bytes()).hexdigest(),
                st.st_mtime_ns,
            )
    return out


def archive_json(cli, *extra):
    result = cli("recordings", "archive", "--exam", EXAM, "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def bag(rec_site, cli) -> Path:
    data = archive_json(cli)
    return Path(data["bag_path"])


def test_archive_writes_a_valid_bag_with_gaps_and_the_corrupt_segment(rec_site, day_root, cli):
    before = tree_hashes(day_root)
    data = archive_json(cli)
    bag_path = Path(data["bag_path"])
    assert bag_path.parent == rec_site / "archive" and not bag_path.name.startswith(".")
    bagit.Bag(str(bag_path)).validate()  # the Library of Congress validator agrees
    # 06:59..07:05 for two cameras, 10-s segments: 36 + 1 overlapping the start, minus 3 missing
    cams = {f["camera"] for f in data["files"]}
    assert cams == {"corridor-1", "entrance"}  # the auditorium camera is not archived
    assert data["file_count"] == len(data["files"]) == len(list((bag_path / "data").rglob("*.mp4")))
    assert [(g["camera"], g["seconds"]) for g in data["gaps"]] == [
        ("corridor-1", 30.0),
        ("entrance", 10.0),
    ]
    assert [u["path"] for u in data["undecodable"]] == ["data/2026-05-28/07/entrance/03.00.mp4"]
    assert sum(1 for f in data["files"] if not f["decodable"]) == 1
    info = bagit.Bag(str(bag_path)).info
    assert info["PPE-Exam-Id"] == EXAM and info["PPE-Gap-Count"] == "2"
    assert info["Payload-Oxum"] == f"{data['total_bytes']}.{data['file_count']}"
    assert info["PPE-Window-Start"] == "2026-05-28T06:59:00+00:00"
    assert sorted(info["PPE-Camera"]) == ["corridor-1", "entrance"]
    manifest = (bag_path / "manifest-sha256.txt").read_bytes()
    assert data["manifest_sha256"] == hashlib.sha256(manifest).hexdigest()
    # the store: the public read API for the reports
    stored = latest_archive(connect(rec_site / "ppe.db"), EXAM)
    assert stored["run_id"] == data["run_id"] and stored["bag_path"] == str(bag_path)
    assert stored["files"] == data["files"] and stored["gaps"] == data["gaps"]
    assert set(stored) >= {
        "run_id",
        "exam_id",
        "created_at",
        "window_start",
        "window_end",
        "margin",
        "zones",
        "cameras",
        "files",
        "total_bytes",
        "file_count",
        "manifest_sha256",
        "bag_path",
        "gaps",
        "undecodable",
    }
    assert set(stored["files"][0]) == {
        "camera",
        "path",
        "size",
        "sha256",
        "start",
        "duration",
        "decodable",
    }
    assert latest_archive(connect(rec_site / "ppe.db"), "other-exam") is None
    # the source is never modified
    assert tree_hashes(day_root) == before
    # the PAK log records the copy as an export of recordings
    from ppe_tech.pak.journal import list_entries

    entries = list_entries(connect(rec_site / "ppe.db"), action="export")
    assert len(entries) == 1 and data["pak_entry"] is not None
    assert "1st floor corridor" in json.dumps(entries[0], ensure_ascii=False)
    # verify: valid, full and fast
    for mode in ((), ("--fast",)):
        result = cli("recordings", "verify", str(bag_path), "--json", *mode)
        assert result.exit_code == 0, result.stdout
        assert json.loads(result.stdout)["valid"] is True
    # running it again finds the finished bag and checks it instead of copying
    again = archive_json(cli)
    assert again["already_complete"] and again["copied_files"] == 0
    assert again["manifest_sha256"] == data["manifest_sha256"]


def test_flipped_byte_caught_by_verify_and_bagit(bag, cli):
    victim = sorted((bag / "data").rglob("*.mp4"))[5]
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    victim.write_bytes(bytes(raw))
    result = cli("recordings", "verify", str(bag), "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert [(p["kind"], p["path"]) for p in problems] == [
        ("changed", victim.relative_to(bag).as_posix())
    ]
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(bag)).validate()
    # --fast checks sizes and counts only: a same-size change passes it (documented)
    assert cli("recordings", "verify", str(bag), "--fast").exit_code == 0


def test_removed_file_caught_by_verify_fast_and_full_and_bagit(bag, cli):
    victim = sorted((bag / "data").rglob("*.mp4"))[-1]
    victim.unlink()
    for mode in ((), ("--fast",)):
        result = cli("recordings", "verify", str(bag), *mode)
        assert result.exit_code == 1
        assert "missing" in result.stdout and "INVALID" in result.stdout
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(bag)).validate()
    # and archive refuses to call that bag finished
    result = cli("recordings", "archive", "--exam", EXAM)
    assert result.exit_code == 1 and "fails verification" in result.stderr


def test_edited_bag_info_caught_by_tagmanifest(bag, cli):
    info = bag / "bag-info.txt"
    info.write_text(info.read_text().replace("PPE-Gap-Count: 2", "PPE-Gap-Count: 0"))
    result = cli("recordings", "verify", str(bag), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["problems"][0]["kind"] == "changed-tag"


def test_manifest_path_escaping_the_bag_is_refused(bag, cli, tmp_path):
    manifest = bag / "manifest-sha256.txt"
    manifest.write_text(manifest.read_text() + f"{'0' * 64}  data/../../outside.txt\n")
    result = cli("recordings", "verify", str(bag))
    assert result.exit_code == 2
    assert "escapes the bag" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["--exam", "no-such-exam"], 2, "unknown exam"),
        (["--exam", EXAM, "--zones", "garden"], 2, "unknown zone"),
        (["--exam", EXAM, "--margin", "soon"], 2, "--margin"),
        (["--exam", EXAM, "--zones", "staff-room"], 2, "no camera in zones"),
    ],
)
def test_bad_input_one_line_error(rec_site, cli, args, code, message):
    result = cli("recordings", "archive", *args)
    assert result.exit_code == code
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (rec_site / "archive").exists() or not any((rec_site / "archive").iterdir())


def test_no_target_configured(site_dir, day_root, cli):
    config = rec_config(day_root)
    config["archive"].pop("target")
    write_site(site_dir, config)
    result = cli("recordings", "archive", "--exam", EXAM)
    assert result.exit_code == 2 and "--to DIR" in result.stderr


def test_verify_not_a_bag(cli, tmp_path):
    result = cli("recordings", "verify", str(tmp_path))
    assert result.exit_code == 2 and "bagit.txt" in result.stderr


@pytest.fixture
def small_tmpfs(tmp_path):
    with tmpfs_at(tmp_path / "small", "2m") as mount:
        yield mount


def test_destination_too_small(rec_site, day_root, cli, small_tmpfs):
    before = tree_hashes(day_root)
    result = cli("recordings", "archive", "--exam", EXAM, "--to", str(small_tmpfs))
    assert result.exit_code == 4
    assert "needed for the archive" in result.stderr and "nothing was copied" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(small_tmpfs.iterdir()) == []  # nothing under a final name, nothing at all
    assert tree_hashes(day_root) == before
    assert latest_archive(connect(rec_site / "ppe.db")) is None


def test_sigkill_at_a_random_point_then_resume(site_dir, tmp_path, segments):
    root = tmp_path / "root"
    build_day(root, segments)
    write_site(site_dir, rec_config(root))
    before = tree_hashes(root)
    target = tmp_path / "out"
    target.mkdir()  # an archive target must exist (issue 10 item 16)
    argv = [
        sys.executable,
        "-m",
        "ppe_tech",
        "--site",
        str(site_dir),
        "recordings",
        "archive",
        "--exam",
        EXAM,
        "--to",
        str(target),
        "--json",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while (
        not any(target.glob(".*.partial")) and child.poll() is None and time.monotonic() < deadline
    ):
        time.sleep(0.01)
    delay = random.uniform(0.0, 0.6)
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait()
    partials = list(target.glob(".*.partial"))
    finals = [p for p in target.iterdir() if not p.name.startswith(".")]
    print(f"killed after {delay:.2f}s: partial={bool(partials)} final={bool(finals)}")
    for final in finals:  # whatever is under a final name is a whole, valid bag
        bagit.Bag(str(final)).validate()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    bagit.Bag(data["bag_path"]).validate()
    assert not list(target.glob(".*.partial"))
    assert not list(Path(data["bag_path"]).rglob("*.ppe-tmp"))
    assert data["file_count"] == 69
    assert tree_hashes(root) == before  # the source is untouched by both runs


def test_interrupted_bag_resumes_without_copying_finished_files(rec_site, cli, monkeypatch):
    """A deterministic interruption: the copy fails after some files; the rerun checks them, copies the rest."""
    from ppe_tech.recordings import bag as bag_module

    real = bag_module.copy_and_hash
    calls = {"n": 0}

    def failing(src, tmp, on_bytes=None, **options):
        calls["n"] += 1
        if calls["n"] > 40:
            raise OSError(5, "Input/output error")
        return real(src, tmp, on_bytes, **options)

    monkeypatch.setattr(bag_module, "copy_and_hash", failing)
    result = cli("recordings", "archive", "--exam", EXAM)
    assert result.exit_code == 3 and "Traceback" not in result.stderr
    monkeypatch.setattr(bag_module, "copy_and_hash", real)
    partial = next((rec_site / "archive").glob(".*.partial"))
    journal = (partial / ".ppe-archive.jsonl").read_text().splitlines()
    assert len(journal) >= 32  # at least one batch was made durable
    data = archive_json(cli)
    assert data["reused_files"] == len(journal) and data["copied_files"] == 69 - len(journal)
    bagit.Bag(data["bag_path"]).validate()


def test_zones_and_margin_options(rec_site, cli, tmp_path):
    (tmp_path / "x").mkdir()
    data = archive_json(cli, "--zones", "auditorium", "--margin", "0s", "--to", str(tmp_path / "x"))
    assert data["cameras"] == ["aud-0001"] and data["gaps"] == []
    assert (
        data["window_start"] == "2026-05-28T07:00:00+00:00"
        and data["window_end"] == "2026-05-28T07:04:00+00:00"
    )
    assert Path(data["bag_path"]).name == f"0101_{EXAM}_auditorium"
    shutil.rmtree(tmp_path / "x")


def test_no_decode_check_still_reports_files_that_are_not_mp4(rec_site, cli, tmp_path):
    (tmp_path / "y").mkdir()
    data = archive_json(cli, "--no-decode-check", "--to", str(tmp_path / "y"))
    assert [u["path"] for u in data["undecodable"]] == ["data/2026-05-28/07/entrance/03.00.mp4"]
    assert {f["decodable"] for f in data["files"]} == {None, False}
    info = bagit.Bag(data["bag_path"]).info
    assert info["PPE-Decode-Check"].startswith("skipped")


def test_target_inside_the_recording_root_is_refused(rec_site, day_root, cli):
    result = cli("recordings", "archive", "--exam", EXAM, "--to", str(day_root / "archive"))
    assert result.exit_code == 2 and "inside the recording root" in result.stderr
    assert not (day_root / "archive").exists()


def test_two_archivers_of_the_same_bag_do_not_mix(rec_site, cli):
    import fcntl

    from ppe_tech.recordings.archive import plan_archive
    from ppe_tech.site import load_site

    site = load_site(rec_site)
    plan = plan_archive(site, None, EXAM)
    partial = rec_site / "archive" / f".{plan.bag_name}.partial"
    (partial / "data").mkdir(parents=True)
    fd = os.open(partial, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another archiver holds this bag
    try:
        result = cli("recordings", "archive", "--exam", EXAM)
        assert result.exit_code == 3 and "another ppe-tech archive" in result.stderr
    finally:
        os.close(fd)
    assert archive_json(cli)["file_count"] == 69


def test_list_shows_the_archives(rec_site, cli):
    assert "no archives yet" in cli("recordings", "list").stdout
    data = archive_json(cli)
    listed = json.loads(cli("recordings", "list", "--json").stdout)["archives"]
    assert [(a["run_id"], a["exam_id"], a["gaps"], a["undecodable"]) for a in listed] == [
        (data["run_id"], EXAM, 2, 1)
    ]
    assert data["bag_path"] in cli("recordings", "list").stdout.replace("\n", "")
