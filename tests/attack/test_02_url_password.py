"""Issue 10 item 2: a camera password holding @ : / or %-escapes is masked whole, everywhere.

For each password: site show, cameras list / show --json, cameras verify (camera_results
rows), and the readiness PDF (its text and embedded results.json) carry no part of it.
"""

from __future__ import annotations

import json

import pytest

from tests.attack.conftest import assert_clean_exit, assert_not_leaked
from tests.conftest import minimal_config, write_site

BOUND_S = 90  # one refused camera, one small signed PDF: a few seconds
PASSPHRASE = "attack-pass-1"


@pytest.mark.parametrize(
    ("password", "fragments"),
    [
        ("p@ssAtSign", ["ssAtSign"]),
        ("pa:ss:Colon9", ["ss:Colon9"]),
        ("sl/ash@Mixed", ["ash@Mixed", "sl/ash"]),
        ("pct%40Esc%2Fape", ["Esc%2Fape", "40Esc"]),
    ],
)
def test_password_masked_whole(ppe, site_dir, password, fragments):
    url = f"rtsp://viewer:{password}@127.0.0.1:9/stream1"
    camera = {"id": "corridor-1", "zone": "corridor", "source": url, "open_timeout": "2s"}
    write_site(site_dir, minimal_config(cameras=[camera]))
    env = {"PPE_KEY_PASSPHRASE": PASSPHRASE}
    runs = [ppe("site", "show"), ppe("site", "show", "--json")]
    for ran in runs:
        assert_clean_exit(ran, 0)
        assert "rtsp://viewer:***@127.0.0.1:9/stream1" in ran.stdout
    verify = ppe("cameras", "verify", "--json", timeout=BOUND_S)
    assert_clean_exit(verify, 1)  # nothing listens on port 9: the camera fails, as it should
    assert json.loads(verify.stdout)["cameras"][0]["source"].startswith("rtsp://viewer:***@")
    runs += [
        verify,
        ppe("cameras", "list"),
        ppe("cameras", "list", "--json"),
        ppe("cameras", "show", "latest", "--json"),
    ]
    assert_clean_exit(ppe("keys", "init", "--cn", "Ivanov I.I.", env=env), 0)
    report = ppe(
        "report",
        "readiness",
        "--exam",
        "2026-05-28-math",
        "--allow-incomplete",
        env=env,
        timeout=BOUND_S,
    )
    assert_clean_exit(report, 0)
    assert list((site_dir / "reports").glob("*.pdf"))
    for fragment in [password, *fragments]:
        assert_not_leaked(fragment, *runs, report, site_dir)
