"""The picture judged against the reference, on real footage (vtest.avi) tampered in known ways,
played as files and served over RTSP by a real GStreamer server."""

from __future__ import annotations

import pytest

from ppe_tech.cameras.verify import run_verification
from ppe_tech.store import connect
from tests.cameras.conftest import camera, make_site

EXPECT = {"width": 768, "height": 576, "fps": 10}
# variant -> the finding code it must raise (None: the camera must be ok, no finding at all)
CASES = {
    "untouched": None,
    "brighter": None,
    "darker": None,
    "noise": None,
    "covered": "covered",
    "black": "black",
    "uniform": "uniform",
    "blurred": "blurred",
    "shifted": "moved",
    "rotated": "moved",
    "frozen": "frozen",
    "low_fps": "low_fps",
    # an empty room before the exam: its on-screen clock is the only change, and it is enough
    "still_clock": None,
    # the same room from a camera without a clock cannot be told from a frozen picture
    "still": "frozen",
}


def _verify(tmp_path_factory, footage, source_of) -> dict:
    cams = [camera(f"cam-{v}", source_of(v), expect=EXPECT) for v in CASES]
    site = make_site(
        tmp_path_factory.mktemp("site"), cams, {c["id"]: footage["reference"] for c in cams}
    )
    conn = connect(site.db_path)
    run = run_verification(site, conn, sample=2.5).to_json()
    conn.close()
    return {c["id"].removeprefix("cam-"): c for c in run["cameras"]}


@pytest.fixture(scope="module")
def from_files(tmp_path_factory, footage) -> dict:
    return _verify(tmp_path_factory, footage, lambda v: str(footage["variants"][v]))


@pytest.fixture(scope="module")
def over_rtsp(tmp_path_factory, footage, rtsp) -> dict:
    return _verify(tmp_path_factory, footage, lambda v: rtsp.url(f"/v/{v}"))


def _check(result: dict, variant: str) -> None:
    expected = CASES[variant]
    codes = [f["code"] for f in result["findings"]]
    if expected is None:
        assert result["status"] == "ok", (variant, result["findings"], result["metrics"])
        assert codes == []
    else:
        assert expected in codes, (variant, result["findings"], result["metrics"])
        assert result["status"] == "fail"
        # the finding carries the numbers behind it
        found = next(f for f in result["findings"] if f["code"] == expected)
        assert any(isinstance(v, int | float) for k, v in found.items() if k not in ("code",)), (
            found
        )


@pytest.mark.parametrize("variant", list(CASES))
def test_file_variant(from_files, variant):
    _check(from_files[variant], variant)


@pytest.mark.parametrize("variant", list(CASES))
def test_rtsp_variant(over_rtsp, variant):
    _check(over_rtsp[variant], variant)


@pytest.mark.parametrize("results", ["from_files", "over_rtsp"])
def test_moved_numbers(results, request):
    found = request.getfixturevalue(results)
    shifted = next(f for f in found["shifted"]["findings"] if f["code"] == "moved")
    assert 10 <= shifted["shift_x_pct"] <= 14  # the footage was panned by 12% of the width
    assert 75 <= shifted["shift_px"] <= 110  # 12% of 768 px = 92 px
    rotated = next(f for f in found["rotated"]["findings"] if f["code"] == "moved")
    assert 8 <= abs(rotated["rotation_deg"]) <= 10  # rotated by 9 degrees


def test_measures_of_a_good_stream(over_rtsp, from_files):
    for result in (over_rtsp["untouched"], from_files["untouched"]):
        m = result["metrics"]
        assert 8 <= m["fps"] <= 12, m  # delivered at the footage's 10 fps, after the open burst
        assert (m["width"], m["height"]) == (768, 576)
        assert m["decoded_frames"] >= 20
        assert m["stalls"] == 0
        assert 0 <= m["connect_ms"] <= m["first_frame_ms"]
        assert 0.7 <= m["sharpness_ratio"] <= 1.4
        assert result["snapshot"] and result["snapshot"].endswith(".jpg")
    low = from_files["low_fps"]["findings"][0]
    assert low["code"] == "low_fps" and 1.5 <= low["fps"] <= 2.5 and low["expected_fps"] == 10


def test_no_reference_is_a_warning(tmp_path, footage):
    site = make_site(tmp_path / "s", [camera("cam", str(footage["variants"]["untouched"]))])
    run = run_verification(site, connect(site.db_path), sample=1.0).to_json()
    cam = run["cameras"][0]
    assert cam["status"] == "warning"
    assert [f["code"] for f in cam["findings"]] == ["no_reference"]


def test_thresholds_per_camera(tmp_path, footage):
    """A camera's own threshold changes the verdict: allow 15% shift for the panned one."""
    cams = [camera("cam", str(footage["variants"]["shifted"]), thresholds={"moved_shift_pct": 15})]
    site = make_site(tmp_path / "s", cams, {"cam": footage["reference"]})
    run = run_verification(site, connect(site.db_path), sample=1.0).to_json()
    assert run["cameras"][0]["status"] == "ok", run["cameras"][0]["findings"]
