"""One key frame decoded on its own: FFmpeg's decoder through PyAV, no demuxer, no probing.

Shared by the archive's decode check (``recordings.decode``) and the camera workers
(``cameras.capture``). Handing a key frame straight to a fresh decoder costs the decode
alone: measured on 1280x720 H.264 key frames of about 140 KB, 16 ms each, where OpenCV's
in-memory capture, which probes the stream first and so decodes its first frame twice,
takes 33 ms.

PyAV is imported on first use: ``ppe-tech --help`` and the station path never load FFmpeg.
Errors are FFmpeg's (``av.FFmpegError``) or PyAV's ``ValueError`` on malformed input.
"""

from __future__ import annotations

from typing import Any


def decode_alone(
    codec: str, data: bytes, *, config: bytes = b"", options: dict[str, str] | None = None
) -> list[Any]:
    """The pictures (``av.VideoFrame``) of the one packet ``data``; ``codec`` is FFmpeg's
    decoder name ("h264", "hevc"), ``config`` its configuration record (avcC/hvcC) if any."""
    import av

    ctx = av.CodecContext.create(codec, "r")
    ctx.extradata = config or None
    ctx.thread_count = 1  # the picture comes out at once, not after a frame-thread delay
    if options:
        ctx.options = options
    return ctx.decode(av.Packet(data)) + ctx.decode(None)
