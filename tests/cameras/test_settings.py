"""``cameras:`` as a mapping of run settings (parallel, sample) with the list under ``list``;
the plain list keeps working (every other test uses it)."""

from __future__ import annotations

import json

import pytest

from tests.cameras.conftest import camera
from tests.conftest import minimal_config, write_site


def _mapping_site(site_dir, footage, **settings):
    cams = [camera("aud-1", str(footage["variants"]["untouched"]))]
    write_site(site_dir, minimal_config(cameras={**settings, "list": cams}))


def test_settings_from_the_mapping_form(cli, site_dir, footage):
    _mapping_site(site_dir, footage, parallel=1, sample="1.5s")
    result = cli("cameras", "verify", "--json")
    assert result.exit_code == 0, result.stderr
    run = json.loads(result.stdout)
    assert run["sample_s"] == 1.5 and [c["id"] for c in run["cameras"]] == ["aud-1"]
    assert cli("cameras", "list", "--json").exit_code == 0
    # the command line wins over the file
    again = json.loads(cli("cameras", "verify", "--json", "--sample", "1").stdout)
    assert again["sample_s"] == 1.0


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"parallel": 0}, "parallel"),
        ({"sample": "0s"}, "sample must be between"),
        ({"paralel": 2}, "paralel"),
    ],
)
def test_bad_settings_one_line_exit_2(cli, site_dir, footage, settings, message):
    _mapping_site(site_dir, footage, **settings)
    result = cli("cameras", "list")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_parallel_option_is_bounded(cli, site_dir, footage):
    _mapping_site(site_dir, footage)
    result = cli("cameras", "verify", "--parallel", "0")
    assert result.exit_code == 2 and "--parallel" in result.stderr
