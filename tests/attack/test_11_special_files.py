"""Issue 10 item 11: special files where a regular file is meant never hang a command.

A FIFO nobody writes to, or /dev/zero (never ends), given as the signing key, a checkpoint,
a PDF, an answers file or a file probe's path: refused at once in one line, no read.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.attack.conftest import assert_clean_exit, assert_one_line_error
from tests.checklist.conftest import write_checklist

pytestmark = pytest.mark.skipif(os.name != "posix", reason="FIFOs and /dev/zero are POSIX")
BOUND_S = 30  # a refusal takes a second; a hang is what fails


@pytest.fixture(params=["fifo", "/dev/zero"])
def special(request, tmp_path):
    if request.param == "fifo":
        path = tmp_path / "special"
        os.mkfifo(path)
        return path
    return request.param


def test_special_checkpoint(demo_ppe, special):
    ran = demo_ppe("pak", "verify", "--checkpoint", str(special), timeout=BOUND_S)
    assert_one_line_error(ran, 3, contains="not a regular file")


def test_special_pdf(demo_ppe, special):
    for args in (
        ("report", "verify", str(special)),
        ("report", "sign", str(special), "--as", "head"),
    ):
        assert_one_line_error(demo_ppe(*args, timeout=BOUND_S), 3, contains="not a regular file")


def test_special_signing_key(demo_ppe, demo_site, special):
    key = demo_site / "keys" / "site.key.pem"
    key.unlink()
    if isinstance(special, str):
        key.symlink_to(special)
    else:
        shutil.move(special, key)
    for args in (("pak", "checkpoint"), ("report", "readiness")):
        assert_one_line_error(demo_ppe(*args, timeout=BOUND_S), 5, contains="not a regular file")


def test_special_answers_file(ppe, site_dir, special):
    write_checklist(
        site_dir / "checklists", "manual", [{"id": "seals", "title": "Seals", "manual": "ok?"}]
    )
    ran = ppe("check", "run", "manual", "--answers", str(special), "--no-input", timeout=BOUND_S)
    assert_one_line_error(ran, 2, contains="not a regular file")


def test_special_file_probe_path(ppe, site_dir, special):
    write_checklist(
        site_dir / "checklists",
        "probe",
        [
            {
                "id": "hash",
                "title": "Hash",
                "timeout": "20s",
                "probe": {"type": "file", "path": str(special), "sha256": "0" * 64},
            },
        ],
    )
    ran = ppe("check", "run", "probe", "--no-input", "--json", timeout=BOUND_S)
    assert_clean_exit(ran, 1)
    assert '"value": "not a regular file"' in ran.stdout
    assert ran.seconds < 15  # refused, not read until the 20 s timeout
