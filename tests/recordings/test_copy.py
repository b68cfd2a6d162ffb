"""The archive's copy-and-hash on real footage: the source's bytes and their SHA-256, every
byte counted once, and a destination filling up midway reported as no space, nothing left."""

from __future__ import annotations

import hashlib

import pytest

from ppe_tech.errors import NoSpaceError
from ppe_tech.recordings import bag
from tests.conftest import VTEST, tmpfs_at


@pytest.fixture
def footage(tmp_path):
    """Real footage bytes over several copy buffers (vtest.avi three times, about 24 MB)."""
    if not VTEST.is_file():
        pytest.skip(f"fixture footage {VTEST} not found (set PPE_FIXTURES)")
    src = tmp_path / "segment.mp4"
    src.write_bytes(VTEST.read_bytes() * 3)
    assert src.stat().st_size > 2 * bag.BUFFER
    return src


@pytest.fixture
def small_mount(tmp_path):
    with tmpfs_at(tmp_path / "small", "12m") as mount:
        yield mount


def test_copy_gives_the_source_bytes_and_their_hash(footage, tmp_path):
    data = footage.read_bytes()
    seen: list[int] = []
    size, digest = bag.copy_and_hash(footage, tmp_path / "copy.tmp", seen.append)
    assert (tmp_path / "copy.tmp").read_bytes() == data
    assert (size, digest) == (len(data), hashlib.sha256(data).hexdigest())
    assert sum(seen) == len(data)  # the progress saw every byte once


def test_disk_full_midway_is_no_space_and_leaves_nothing(footage, small_mount):
    """The destination fills up during the copy (24 MB into 12 MiB): NoSpaceError naming
    the copy, the partial copy removed, the source untouched."""
    before = hashlib.sha256(footage.read_bytes()).hexdigest()
    tmp = small_mount / "copy.tmp"
    with pytest.raises(NoSpaceError) as caught:
        bag.copy_and_hash(footage, tmp)
    assert "no space left" in str(caught.value) and str(tmp) in str(caught.value)
    assert not tmp.exists() and list(small_mount.iterdir()) == []
    assert hashlib.sha256(footage.read_bytes()).hexdigest() == before
