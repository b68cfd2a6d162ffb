"""Camera fixtures: a real RTSP server (GStreamer, system python3-gi), a hung TCP listener,
and variants of the real footage (vtest.avi) tampered in one known way each."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import VTEST

HERE = Path(__file__).resolve().parent
SERVER = HERE / "rtsp_server.py"
SYSTEM_PYTHON = "/usr/bin/python3"
VARIANT_SECONDS = 6.0
VARIANT_START = 2.0


def gst_rtsp_missing() -> str | None:
    """Why the RTSP server cannot run here, or None."""
    if not Path(SYSTEM_PYTHON).is_file():
        return f"{SYSTEM_PYTHON} not found"
    check = subprocess.run(
        [
            SYSTEM_PYTHON,
            "-c",
            "import gi; gi.require_version('GstRtspServer', '1.0'); "
            "from gi.repository import GstRtspServer",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if check.returncode:
        return "GStreamer RTSP server via python3-gi missing (apt-get install python3-gi gir1.2-gst-rtsp-server-1.0)"
    return None


class RtspServer:
    def __init__(self, mounts: dict[str, str], prefix: tuple[str, ...] = ()):
        """``prefix``: argv before the server's (``("nice", "-n", "-10")`` in the benchmark)."""
        self.process = subprocess.Popen(
            [
                *prefix,
                SYSTEM_PYTHON,
                str(SERVER),
                *(f"{path}={spec}" for path, spec in mounts.items()),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.process.stdout.readline().strip()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"RTSP server did not start: {line!r}")
        self.port = int(line.split()[1])

    def url(self, mount: str) -> str:
        return f"rtsp://127.0.0.1:{self.port}{mount}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def footage(tmp_path_factory) -> dict:
    """Session copies: vtest.avi, its variants (mp4v files) and the reference PNG."""
    import cv2

    from ppe_tech.cameras.footage import VARIANTS, make_variant, read_frames

    if not VTEST.is_file():
        pytest.skip(f"fixture footage {VTEST} not found (set PPE_FIXTURES)")
    folder = tmp_path_factory.mktemp("footage")
    vtest = folder / "vtest.avi"
    shutil.copyfile(VTEST, vtest)
    frames, fps = read_frames(vtest, VARIANT_SECONDS, start=VARIANT_START)
    reference = folder / "reference.png"
    cv2.imwrite(str(reference), frames[0])
    variants = {v: make_variant(frames, fps, v, folder / f"{v}.mp4") for v in VARIANTS}
    return {"vtest": vtest, "reference": reference, "variants": variants, "folder": folder}


@pytest.fixture(scope="session")
def rtsp(footage) -> RtspServer:
    """One RTSP server for the session: the footage and its variants, test patterns,
    a stream that stalls after 1.5 s and one that sends 2 fps. Any other path is a 404."""
    missing = gst_rtsp_missing()
    if missing:
        pytest.skip(missing)
    mounts = {
        "/walk": f"file:{footage['vtest']}",
        "/ball": "pattern:ball:10",
        "/bars": "pattern:smpte:10",
        "/stall": "stall:1.5",
        "/slow": "pattern:smpte:2",
    }
    for name, path in footage["variants"].items():
        mounts[f"/v/{name}"] = f"file:{path}"
    server = RtspServer(mounts)
    yield server
    server.stop()


def camera(cam_id: str, source: str, zone: str = "auditorium", **extra) -> dict:
    return {"id": cam_id, "zone": zone, "room": f"Room {cam_id}", "source": source, **extra}


def make_site(folder: Path, cameras: list[dict], references: dict[str, Path] | None = None):
    """A site folder with these cameras and reference pictures; returns the loaded Site."""
    from ppe_tech.site import load_site
    from tests.conftest import minimal_config, write_site

    write_site(folder, minimal_config(cameras=cameras))
    for cam_id, png in (references or {}).items():
        (folder / "references").mkdir(exist_ok=True)
        shutil.copyfile(png, folder / "references" / f"{cam_id}.png")
    return load_site(folder)
