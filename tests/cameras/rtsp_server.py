#!/usr/bin/python3
"""A local RTSP server for tests and benchmarks: GStreamer's RTSP server through python3-gi.

Run with the SYSTEM python (``/usr/bin/python3``; python3-gi is not in the venv)::

    /usr/bin/python3 rtsp_server.py /walk=file:/tmp/vtest.avi /ball=pattern:ball:10 \
        /stall=stall:1.5 /slow=pattern:smpte:2 /h264=h264:/tmp/clip.mp4

It binds a free port on 127.0.0.1 (``set_service("0")``), prints ``PORT <n>`` on
stdout once it listens, and serves until stdin closes or it is killed. Every client
gets its own pipeline (not shared), so each starts at the beginning of its source (except ``camera:`` mounts).

Mount kinds:
  file:PATH            any file GStreamer decodes, re-encoded to H.264 (x264, zerolatency)
  h264:PATH            an MP4 that already holds H.264: sent as is, no re-encoding (cheap;
                       what a real camera with a hardware encoder does)
  camera:PATH          the same, but one stream shared by every client, as a camera does
                       (one encoder, many viewers): a client's DESCRIBE costs no new pipeline
  pattern:NAME:FPS     videotestsrc (ball, smpte, snow, ...) at FPS frames a second, 640x480
  stall:SECONDS        SMPTE bars at 10 fps that stops sending after SECONDS, connection open
  pause:AT:SECONDS     SMPTE bars at 10 fps that sends nothing from AT for SECONDS, then resumes
Any other path answers 404 Not Found.
"""

from __future__ import annotations

import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

X264 = "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 bitrate=1500"
PAY = "rtph264pay name=pay0 pt=96 config-interval=1"


def pattern_launch(name: str, fps: str, width: int = 640, height: int = 480) -> str:
    return (
        f"( videotestsrc is-live=true pattern={name} ! "
        f"video/x-raw,width={width},height={height},framerate={fps}/1 ! videoconvert ! {X264} ! {PAY} )"
    )


def launch_for(kind: str, arg: str) -> str:
    if kind == "file":
        return f'( filesrc location="{arg}" ! decodebin ! videoconvert ! {X264} ! {PAY} )'
    if kind in ("h264", "camera"):
        return f'( filesrc location="{arg}" ! qtdemux ! h264parse ! {PAY} )'
    if kind == "pattern":
        name, _, fps = arg.partition(":")
        return pattern_launch(name or "ball", fps or "10")
    if kind in ("stall", "pause"):
        return pattern_launch("smpte", "10")
    raise SystemExit(f"unknown mount kind {kind!r}")


def stall_after(seconds: float, pause: float = float("inf")):
    """A media-configure handler: drop every RTP packet from ``seconds`` after the first one,
    for ``pause`` seconds (for ever by default)."""

    def configure(factory, media) -> None:
        pay = media.get_element().get_by_name("pay0")
        state = {"first": None}

        def probe(pad, info):
            now = time.monotonic()
            if state["first"] is None:
                state["first"] = now
            if seconds < now - state["first"] <= seconds + pause:
                return Gst.PadProbeReturn.DROP
            return Gst.PadProbeReturn.OK

        pay.get_static_pad("src").add_probe(
            Gst.PadProbeType.BUFFER | Gst.PadProbeType.BUFFER_LIST, probe
        )

    return configure


def main(argv: list[str]) -> int:
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service("0")
    mounts = server.get_mount_points()
    for spec in argv:
        path, _, source = spec.partition("=")
        kind, _, arg = source.partition(":")
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch_for(kind, arg))
        factory.set_shared(kind == "camera")
        if kind == "stall":
            factory.connect("media-configure", stall_after(float(arg or 1.5)))
        elif kind == "pause":
            at, _, pause = arg.partition(":")
            factory.connect("media-configure", stall_after(float(at), float(pause or 2)))
        mounts.add_factory(path, factory)
    if server.attach(None) == 0:
        print("ERROR cannot attach the server", flush=True)
        return 1
    print(f"PORT {server.get_bound_port()}", flush=True)
    loop = GLib.MainLoop()

    def watch_stdin() -> None:  # the parent closes our stdin (or dies): stop
        sys.stdin.read()
        GLib.idle_add(loop.quit)

    threading.Thread(target=watch_stdin, daemon=True).start()
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
