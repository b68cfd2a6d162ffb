"""The archive's decode check: a segment's first frame and its last keyframe decode.

What it proves, and how cheaply (measured on 60-s 768x576 H.264 segments at 5 Mbit/s, see
docs/recordings.md): the MP4's sample tables lie within the file's media data (``mp4.
video_track``: a truncated or cut segment is found without decoding), then exactly two
samples are handed to FFmpeg's decoder through PyAV: the first (a keyframe) and the last
keyframe of the keyframe table, each decoded on its own with FFmpeg's error detection set to
fail on any damage. No demuxer probing and no decoding of the frames after the keyframe, so
the cost is the size of two keyframes, whatever the keyframe interval: about 30 ms of CPU here
where OpenCV's open, read and seek cost 150 ms (2-s keyframe intervals) to 600 ms (25 s).

Samples of codecs whose decoder configuration is not read here (anything but H.264/H.265
sample entries) and fragmented MP4 go through PyAV's demuxer instead: open, first frame, seek
to the last keyframe, one frame.
"""

from __future__ import annotations

from pathlib import Path

from ppe_tech.keyframes import decode_alone
from ppe_tech.recordings.mp4 import NotMp4, VideoTrack, video_track

CODECS = {"avc1": "h264", "avc3": "h264", "hvc1": "hevc", "hev1": "hevc"}
# "explode": stop at the first bitstream error instead of concealing it in the picture
DECODER_OPTIONS = {"err_detect": "explode"}


def decodable(path: Path) -> tuple[bool, str]:
    """``(True, "")`` when the first frame and the last keyframe decode, else ``(False, reason)``."""
    try:
        track = video_track(path)
        if not samples_known(track):
            return _demuxed(path)
        first, last = read_samples(path, track)
    except NotMp4 as exc:
        return False, str(exc)
    except OSError as exc:
        return False, f"cannot read: {exc.strerror or exc}"
    return decode_samples(track, first, last)


def samples_known(track: VideoTrack) -> bool:
    """The two samples can be decoded alone: their places are known and so is their codec."""
    return track.first is not None and track.last_key is not None and track.entry in CODECS


def read_samples(path: Path, track: VideoTrack) -> tuple[bytes, bytes]:
    """The bytes of the first sample and of the last keyframe (``samples_known(track)``)."""
    with open(path, "rb") as fh:
        return _read(fh, track.first), _read(fh, track.last_key)


def _read(fh, where: tuple[int, int] | None) -> bytes:
    assert where is not None  # samples_known()
    offset, size = where
    fh.seek(offset)
    data = fh.read(size)
    if len(data) != size:
        raise NotMp4(f"sample at byte {offset} is cut short")
    return data


def decode_samples(track: VideoTrack, first: bytes, last_key: bytes) -> tuple[bool, str]:
    """Decode the first sample and the last keyframe of ``track``, each on a fresh decoder."""
    what = [("first frame", first)]
    if track.last_key_number > 1:
        what.append((f"last keyframe (frame {track.last_key_number} of {track.samples})", last_key))
    for label, data in what:
        reason = _decode_one(CODECS[track.entry], track.config, data)
        if reason:
            return False, f"{label} does not decode: {reason}"
    return True, ""


def _decode_one(codec: str, config: bytes, data: bytes) -> str:
    """'' when ``data`` decodes to an undamaged picture, else why not."""
    import av  # PyAV: FFmpeg's decoder without the demuxer; kept out of ppe-tech --help

    try:
        frames = decode_alone(codec, data, config=config, options=DECODER_OPTIONS)
    except (av.FFmpegError, ValueError) as exc:
        return _ffmpeg_reason(exc)
    if not frames:
        return "no picture"
    if any(frame.is_corrupt for frame in frames):
        return "damaged picture"
    return ""


def _ffmpeg_reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _demuxed(path: Path) -> tuple[bool, str]:
    """The same check through PyAV's demuxer (fragmented MP4, codecs without a config here)."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return False, "no video stream"
            stream = container.streams.video[0]
            if stream.codec_context is None:
                return False, "no decoder for its codec"
            stream.codec_context.thread_count = 1
            stream.codec_context.options = DECODER_OPTIONS
            if _first_picture(container, stream) is None:
                return False, "first frame does not decode: no picture"
            end = (stream.start_time or 0) + (stream.duration or 0)
            container.seek(end, stream=stream, backward=True, any_frame=False)
            stream.codec_context.flush_buffers()
            if _first_picture(container, stream) is None:
                return False, "last keyframe does not decode: no picture"
    except (av.FFmpegError, ValueError) as exc:  # PyAV: ValueError on some malformed input
        return False, f"does not decode: {_ffmpeg_reason(exc)}"
    return True, ""


def _first_picture(container, stream):
    for frame in container.decode(stream):
        return None if frame.is_corrupt else frame
    return None
