"""The decode check on real segments broken the ways segments break: each is found, with its reason.

Every broken file is made from a real 10-s H.264 segment cut from vtest.avi; the offsets of the
first sample and of the last keyframe come from ``mp4.video_track`` and are checked against
ffprobe's own packet list, so the damage lands where the test says it does.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import bagit
import pytest

from ppe_tech.recordings.decode import decodable
from ppe_tech.recordings.mp4 import NotMp4, video_track
from tests.conftest import write_site
from tests.recordings.conftest import EXAM, build_day, frigate_path, rec_config


def ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True
    )


def keyframe_packets(path: Path) -> list[tuple[int, int]]:
    """(pos, size) of every keyframe packet, from ffprobe (an independent reading of the file)."""
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v",
            "-show_entries",
            "packet=pos,size,flags",
            "-of",
            "json",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout  # fmt: skip  (an argv reads best as one line of options)
    packets = json.loads(out)["packets"]
    return [(int(p["pos"]), int(p["size"])) for p in packets if "K" in p["flags"]]


def top_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    boxes, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        boxes.append((kind, pos, pos + size))
        pos += size
    return boxes


@pytest.fixture(scope="module")
def faststart(segments, tmp_path_factory) -> Path:
    """The first segment with its moov moved before the media data (as many recorders write)."""
    out = tmp_path_factory.mktemp("faststart") / "fs.mp4"
    ffmpeg("-i", str(segments[0]), "-c", "copy", "-movflags", "+faststart", str(out))
    return out


def broken(tmp_path: Path, source: Path, name: str, change) -> Path:
    data = bytearray(source.read_bytes())
    path = tmp_path / name
    path.write_bytes(change(data) or data)
    return path


def test_sample_tables_agree_with_ffprobe(segments, faststart):
    for path in (segments[0], faststart):
        track = video_track(path)
        keys = keyframe_packets(path)
        assert track.entry == "avc1" and track.config and track.samples >= 90
        assert track.keyframes == len(keys) >= 9  # a keyframe every second, like a camera
        assert track.first == keys[0] and track.last_key == keys[-1]
        assert decodable(path) == (True, "")


def test_segment_truncated_in_the_middle(segments, faststart, tmp_path):
    half = segments[0].stat().st_size // 2
    moov_last = broken(tmp_path, segments[0], "cut.mp4", lambda d: d[:half])
    moov_first = broken(tmp_path, faststart, "cut-fs.mp4", lambda d: d[:half])
    ok, reason = decodable(moov_last)
    assert not ok and "runs past the end of the file" in reason
    ok, reason = decodable(moov_first)  # the moov is whole, the media data it describes is not
    assert not ok and "runs past the end of the file" in reason and "truncated" in reason


def test_segment_cut_with_its_box_sizes_made_to_fit(faststart, tmp_path):
    """Cut in the middle and the mdat box's size rewritten to the new end: the sample tables
    still point past it, and that is found without decoding."""

    def cut(data: bytearray) -> bytearray:
        kind, start, _end = next(b for b in top_boxes(bytes(data)) if b[0] == b"mdat")
        new_end = len(data) // 2
        data[start : start + 4] = struct.pack(">I", new_end - start)
        return data[:new_end]

    path = broken(tmp_path, faststart, "fitted.mp4", cut)
    with pytest.raises(NotMp4, match="outside the file's media data"):
        video_track(path)
    ok, reason = decodable(path)
    assert not ok and "outside the file's media data" in reason


def test_segment_without_its_moov_box(segments, faststart, tmp_path):
    def drop_moov(data: bytearray) -> bytes:
        return b"".join(
            bytes(data[s:e]) for kind, s, e in top_boxes(bytes(data)) if kind != b"moov"
        )

    for source in (segments[0], faststart):
        path = broken(tmp_path, source, f"nomoov-{source.name}", drop_moov)
        assert b"moov" not in [k for k, _s, _e in top_boxes(path.read_bytes())]
        ok, reason = decodable(path)
        assert not ok and "no moov box" in reason


def overwrite(where: tuple[int, int], seed: int):
    offset, size = where

    def change(data: bytearray) -> None:
        data[offset : offset + size] = os.urandom(size) if seed else bytes(size)

    return change


@pytest.mark.parametrize("garbage", [0, 1], ids=["zeroed", "random"])
def test_corrupt_last_gop(segments, tmp_path, garbage):
    track = video_track(segments[0])
    offset, _size = track.last_key
    # from the last keyframe to the end of the media data: the whole last GOP destroyed
    mdat_end = next(e for k, _s, e in top_boxes(segments[0].read_bytes()) if k == b"mdat")
    last_gop = (offset, mdat_end - offset)
    path = broken(tmp_path, segments[0], "gop.mp4", overwrite(last_gop, garbage))
    ok, reason = decodable(path)
    assert not ok
    assert reason.startswith(f"last keyframe (frame {track.last_key_number} of {track.samples})")
    assert "does not decode" in reason


@pytest.mark.parametrize("garbage", [0, 1], ids=["zeroed", "random"])
def test_corrupt_first_frame(segments, tmp_path, garbage):
    track = video_track(segments[0])
    path = broken(tmp_path, segments[0], "first.mp4", overwrite(track.first, garbage))
    ok, reason = decodable(path)
    assert not ok and reason.startswith("first frame does not decode")


def test_half_damaged_keyframe_is_not_concealed(segments, tmp_path):
    """FFmpeg conceals a damaged slice by default; the check asks it to fail instead."""
    offset, size = video_track(segments[0]).last_key
    path = broken(tmp_path, segments[0], "half.mp4", overwrite((offset + size // 2, size // 2), 1))
    ok, reason = decodable(path)
    assert not ok and "last keyframe" in reason


def test_other_codecs_and_fragmented_mp4_go_through_the_demuxer(segments, tmp_path):
    from ppe_tech.recordings.demo import encode_segment

    mpeg4 = encode_segment(tmp_path / "mp4v.mp4", seconds=20)  # OpenCV's writer: MPEG-4 part 2
    assert video_track(mpeg4).entry == "mp4v"
    fragmented = tmp_path / "frag.mp4"
    ffmpeg(
        "-i",
        str(segments[0]),
        "-c",
        "copy",
        "-movflags",
        "frag_keyframe+empty_moov",
        str(fragmented),
    )
    assert video_track(fragmented).first is None  # its samples are described in moof boxes
    assert decodable(mpeg4) == (True, "")
    assert decodable(fragmented) == (True, "")
    garbage = broken(tmp_path, fragmented, "frag-bad.mp4", lambda d: d[: len(d) // 3])
    assert not decodable(garbage)[0]


def test_archive_reports_each_broken_segment_with_its_reason(
    site_dir, segments, faststart, tmp_path, cli
):
    """The four faults in one recording root: the bag is written, each fault listed with why."""
    from tests.recordings.conftest import DAY_START

    root = tmp_path / "root"
    written = build_day(root, segments, gaps=False)
    track = video_track(segments[0])
    moments = sorted({m for _cam, m in written})[14:18]  # inside the exam window
    faults = {
        "truncated": (faststart, lambda d: d[: len(d) // 2], "runs past the end of the file"),
        "no-moov": (segments[0], lambda d: d[: top_boxes(bytes(d))[-1][1]], "no moov box"),
        "last-gop": (segments[0], overwrite(track.last_key, 1), "last keyframe"),
        "first-frame": (segments[0], overwrite(track.first, 1), "first frame does not decode"),
    }
    expected = {}
    for (name, (source, change, why)), moment in zip(faults.items(), moments, strict=True):
        target = root / frigate_path("entrance", moment)
        target.write_bytes(broken(tmp_path, source, f"{name}.mp4", change).read_bytes())
        os.utime(target, (DAY_START.timestamp(), DAY_START.timestamp()))
        expected[f"data/{frigate_path('entrance', moment)}"] = why
    write_site(site_dir, rec_config(root))
    before = {p: p.read_bytes() for p in root.rglob("*.mp4")}
    result = cli("recordings", "archive", "--exam", EXAM, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    found = {u["path"]: u["reason"] for u in data["undecodable"]}
    assert set(found) == set(expected)
    for path, why in expected.items():
        assert why in found[path], (path, found[path])
    bagit.Bag(data["bag_path"]).validate()
    info = bagit.Bag(data["bag_path"]).info
    assert info["PPE-Undecodable-Count"] == "4"
    assert info["PPE-Decode-Check"] == "first frame and last keyframe of every file"
    assert {p: p.read_bytes() for p in root.rglob("*.mp4")} == before  # sources untouched
    shutil.rmtree(data["bag_path"])
