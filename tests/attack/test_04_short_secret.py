"""Issue 10 item 4: a secret shorter than 4 characters masks whole words only.

Chosen over refusing it (a short password is weak, but a site may have one it cannot
change on the exam morning): ``CAM_PASSWORD=e`` must not turn ``Europe/Moscow`` into
``Europ***/Moscow``, yet the password itself never shows.
"""

from __future__ import annotations

import json

import pytest

from tests.attack.conftest import assert_clean_exit
from tests.conftest import minimal_config, write_site

BOUND_S = 30


@pytest.mark.parametrize("secret", ["e", "Mo", "10."])
def test_short_secret_masks_whole_words_only(ppe, site_dir, secret):
    camera = {
        "id": "corridor-1",
        "zone": "corridor",
        "source": "rtsp://viewer:${CAM_PASSWORD}@10.0.0.21:554/stream1",
    }
    write_site(
        site_dir, minimal_config(cameras=[camera], checks={"vars": {"pin": "${CAM_PASSWORD}"}})
    )
    ran = ppe("site", "show", "--json", env={"CAM_PASSWORD": secret}, timeout=BOUND_S)
    assert_clean_exit(ran, 0)
    config = json.loads(ran.stdout)["config"]
    assert config["point"]["timezone"] == "Europe/Moscow"
    assert config["staff"]["head"]["position"] == "head of the exam point"
    assert config["cameras"][0]["source"] == "rtsp://viewer:***@10.0.0.21:554/stream1"
    assert config["checks"]["vars"]["pin"] == "***"  # the whole value is masked
