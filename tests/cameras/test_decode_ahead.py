"""Key frames decoded while the stream is still received: the same pictures as OpenCV's
decoder, a key frame that does not decode left to the decode after the sample.

Real H.264 key frames of the shipped walkway clip (re-encoded by ffmpeg with a key frame a
second, as cameras send), read the way a camera worker reads them (OpenCV's FFmpeg
backend in raw mode).
"""

from __future__ import annotations

import io
import os
import subprocess

import cv2
import numpy as np
import pytest

from ppe_tech.cameras import capture
from ppe_tech.cameras.analysis import to_analysis
from ppe_tech.cameras.demo import CLIP

# capture routes FFmpeg's log lines for the camera workers it runs in (set on import); the
# processes this test session starts later (the demo's, the CLI's) must not inherit that
for name in ("OPENCV_FFMPEG_DEBUG", "OPENCV_FFMPEG_LOGLEVEL"):
    os.environ.pop(name, None)

JOB = {"sample": 3.0, "mode": "verify", "reference": ""}


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    out = tmp_path_factory.mktemp("clip") / "keys.mp4"
    encode = ["ffmpeg", "-v", "error", "-i", str(CLIP), "-t", "5", "-vf", "scale=640:360"]
    encode += ["-c:v", "libx264", "-preset", "veryfast", "-g", "10", "-an", str(out)]
    subprocess.run(encode, check=True, timeout=120)
    return out


def _key_frames(clip, count: int) -> list[tuple[float, bytes]]:
    """The clip's first ``count`` key frames: (seconds, Annex B packet)."""
    cap = cv2.VideoCapture(str(clip), cv2.CAP_FFMPEG, [cv2.CAP_PROP_FORMAT, -1])
    assert capture._key_decoder(cap) == "h264"
    keys = []
    while len(keys) < count and cap.grab():
        if cap.get(cv2.CAP_PROP_LRF_HAS_KEY_FRAME) > 0:
            ok, data = cap.retrieve()
            assert ok
            keys.append((cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0, data.tobytes()))
    cap.release()
    assert len(keys) == count, f"the clip has {len(keys)} key frames"
    return keys


def _opencv_picture(packet: bytes) -> np.ndarray:
    stream = io.BytesIO(packet)  # held: OpenCV reads from it while decoding
    decoder = cv2.VideoCapture(stream, cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    ok, frame = decoder.read()
    decoder.release()
    assert ok
    return frame


def test_key_frames_decode_ahead_to_opencvs_pictures(clip):
    keys = _key_frames(clip, 4)
    ahead = capture._Ahead(JOB, capture._Slots(None), "h264")
    for t, packet in keys:
        ahead.offer(t, packet)
    assert ahead.finish() is None  # no reference picture for this job
    assert ahead.enough() and len(ahead.frames) == len(keys)
    for frame, (_, packet) in zip(ahead.frames, keys, strict=True):
        assert np.array_equal(frame, to_analysis(_opencv_picture(packet)))
    out = capture.Capture()
    ahead.give(out)
    assert len(out.frames) == len(keys)
    assert np.array_equal(out.last, _opencv_picture(keys[-1][1]))


def test_key_frames_closer_than_the_spacing_are_not_all_decoded(clip):
    keys = _key_frames(clip, 3)
    ahead = capture._Ahead(JOB, capture._Slots(None), "h264")
    for i, (_, packet) in enumerate(keys):  # offered 0.1 s apart: an all-intra stream
        ahead.offer(0.1 * i, packet)
    ahead.finish()
    assert len(ahead.frames) == 1 and not ahead.enough()


def test_a_key_frame_that_does_not_decode_leaves_it_to_the_decode_after_the_sample(clip):
    keys = _key_frames(clip, 3)
    ahead = capture._Ahead(JOB, capture._Slots(None), "h264")
    damaged = keys[1][1][:40] + bytes(len(keys[1][1]) - 40)  # its slice data zeroed
    for t, packet in [keys[0], (keys[1][0], damaged), keys[2]]:
        ahead.offer(t, packet)
    ahead.finish()
    assert ahead.failed and len(ahead.frames) == 1 and not ahead.enough()


def test_an_unknown_codec_is_not_decoded_ahead(clip):
    ahead = capture._Ahead(JOB, capture._Slots(None), None)
    for t, packet in _key_frames(clip, 3):
        ahead.offer(t, packet)
    ahead.finish()
    assert ahead.frames == [] and not ahead.enough()
