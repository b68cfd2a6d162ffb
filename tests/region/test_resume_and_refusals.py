"""A push killed with SIGKILL at random moments and resumed; changes after the hand-over refused;
the storage's lock holding against deletion."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from botocore.exceptions import ClientError

from ppe_tech.region.s3 import PART_SIZE, SINGLE_PUT_MAX
from tests.region.region_helpers import run_cli, versions


def _kill_mid_push(admin, bucket: str, point, after: int) -> bool:
    """Start a real push; SIGKILL it once ``after`` more objects have arrived.

    Returns whether the kill caught it mid-way (the point's push row still 'running'): a small
    point on a quiet machine may finish between two looks, and that kill proves nothing.
    """
    before = len(versions(admin, bucket))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ppe_tech",
            "region",
            "push",
            "--exam",
            os.environ["EXAM"],
            "--workers",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    while proc.poll() is None and time.monotonic() < deadline:
        if len(versions(admin, bucket)) >= before + after:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    if proc.wait() != -signal.SIGKILL:
        return False
    _settle(admin, bucket)
    with sqlite3.connect(point / "ppe.db") as conn:
        last = conn.execute("SELECT status FROM region_pushes ORDER BY id DESC LIMIT 1").fetchone()
    return last[0] == "running"


def _settle(admin, bucket: str) -> None:
    """Wait until the storage has finished what the killed push had sent (on a loaded machine a
    request in flight at the kill is still being stored), so what the test samples next is the
    state a technician's resume, seconds later, would find."""
    seen, deadline = [-1], time.monotonic() + 15
    while time.monotonic() < deadline:
        seen.append(sum(len(v) for v in versions(admin, bucket).values()))
        if len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3]:  # still for 1.5 s
            return
        time.sleep(0.75)


def _serves(admin, bucket: str, key: str) -> bool:
    try:
        admin.head_object(Bucket=bucket, Key=key)
    except ClientError:
        return False
    return True


def test_push_killed_at_random_points_resumes(point, exams, admin, bucket, s3_env, monkeypatch):
    past, _ = exams
    monkeypatch.setenv("EXAM", past)
    seed = int(os.environ.get("PPE_TEST_SEED", time.time()))
    rng = random.Random(seed)
    kills = 0
    for _ in range(6):  # until three pushes were killed mid-way
        kills += _kill_mid_push(admin, bucket, point, rng.randint(1, 12))
        if kills == 3:
            break
    assert kills >= 1, f"no push was killed mid-way (seed {seed})"
    # What a resume can see: a key the storage serves. A PUT cut by the kill can leave a version
    # in the listing with no current pointer, which HEAD and GET answer 404 (SeaweedFS, see its
    # pull request 9782); the resume rightly sends that object again.
    readable = [
        k for k in versions(admin, bucket) if "/handover/" not in k and _serves(admin, bucket, k)
    ]
    final = run_cli("region", "push", "--exam", past, "--json")
    assert final.returncode == 0, final.stderr
    summary = json.loads(final.stdout)
    found = versions(admin, bucket)
    # a complete object is never sent again (it would be a second version)
    twice = {k: [str(v["LastModified"]) for v in found[k]] for k in readable if len(found[k]) > 1}
    assert not twice, (seed, twice)
    assert all(_serves(admin, bucket, k) for k in found)
    assert summary["already_there"] >= len(readable) > 0
    assert summary["sent"] + summary["already_there"] == summary["objects"]
    pushes = json.loads(run_cli("region", "status", "--offline", "--json").stdout)
    assert pushes[0]["last_status"] == "complete"
    with sqlite3.connect(point / "ppe.db") as conn:
        states = [r[0] for r in conn.execute("SELECT status FROM region_pushes ORDER BY id")]
    assert states[-1] == "complete" and "running" not in states and "interrupted" in states
    review = run_cli(
        "region",
        "review",
        "--bucket",
        bucket,
        "--endpoint",
        s3_env.endpoint,
        "--exam",
        past,
        "--json",
    )
    (row,) = json.loads(review.stdout)["exams"]
    assert row["bag"] == "1 verified" and row["log"]["ok"], (seed, row["problems"])
    assert all(r["ok"] for r in row["reports"])


def test_file_changed_on_the_point_after_the_push_is_refused(point, exams, admin, bucket):
    past, _ = exams
    assert run_cli("region", "push", "--exam", past).returncode == 0
    bag = next((point / "archive").iterdir())
    victim = sorted((bag / "data").rglob("*.mp4"))[5]
    with open(victim, "r+b") as f:
        f.seek(4000)
        f.write(b"\x00" * 16)
    result = run_cli("region", "push", "--exam", past)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("ppe-tech: error: ") and victim.name in lines[-1]
    key = next(k for k in versions(admin, bucket) if k.endswith(victim.relative_to(bag).as_posix()))
    assert len(versions(admin, bucket)[key]) == 1  # the storage still holds the original only


def test_another_checksum_in_the_storage_is_never_overwritten(point, exams, admin, bucket):
    past, _ = exams
    report = sorted((point / "reports").glob("*ARC*.pdf"))[0]
    key = f"77/7701/{past}/reports/{report.name}"
    admin.put_object(Bucket=bucket, Key=key, Body=b"someone else's bytes")
    result = run_cli("region", "push", "--exam", past, "--json")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"ppe-tech: error: refusing to overwrite {key}: the storage holds other bytes "
        f"(SHA-256 unknown, point {hashlib.sha256(report.read_bytes()).hexdigest()}); "
        "a file was changed on the point after it was handed over"
    )
    found = versions(admin, bucket)
    assert len(found[key]) == 1
    assert admin.get_object(Bucket=bucket, Key=key)["Body"].read() == b"someone else's bytes"
    status = json.loads(run_cli("region", "status", "--offline", "--json").stdout)
    assert status[0]["last_status"] == "refused"


def test_deletion_before_the_retention_date_is_refused_by_the_storage(point, exams, admin, bucket):
    past, _ = exams
    assert run_cli("region", "push", "--exam", past).returncode == 0
    key = next(k for k in versions(admin, bucket) if "/reports/" in k)
    (version,) = versions(admin, bucket)[key]
    with pytest.raises(ClientError) as refused:
        admin.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as shortened:  # COMPLIANCE: nobody can shorten it either
        admin.put_object_retention(
            Bucket=bucket,
            Key=key,
            VersionId=version["VersionId"],
            Retention={
                "Mode": "COMPLIANCE",
                "RetainUntilDate": dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
            },
        )
    assert shortened.value.response["Error"]["Code"] == "AccessDenied"
    # a delete without a version only lays a delete marker over it: the locked version stays
    admin.delete_object(Bucket=bucket, Key=key)
    kept = admin.get_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
    assert kept["ContentLength"] == version["Size"]


def test_bucket_without_object_lock_is_warned_about(point, exams, admin, plain_bucket):
    past, _ = exams
    result = run_cli("region", "push", "--exam", past, "--bucket", plain_bucket, "--json")
    assert result.returncode == 0, result.stderr
    assert f"warning: bucket {plain_bucket} has no object lock" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["locked_until"] is None and "no object lock" in summary["warnings"][0]
    key = next(iter(versions(admin, plain_bucket)))
    assert "ObjectLockMode" not in admin.head_object(Bucket=plain_bucket, Key=key)


@pytest.mark.parametrize(
    "size", [100_000, SINGLE_PUT_MAX + 5 * 1024 * 1024], ids=["single-put", "multipart"]
)
def test_bytes_changed_between_hashing_and_sending_are_refused_by_the_storage(
    tmp_path, s3_env, admin, bucket, size
):
    """The push hashes each file once and sends each part with that SHA-256: the storage itself
    refuses a body that changed since, and no object, or half of a multipart upload, stays."""
    from ppe_tech.errors import VerificationFailed
    from ppe_tech.region.handover import Item
    from ppe_tech.region.push import Pusher, local_digests
    from ppe_tech.region.s3 import Target, client

    path = tmp_path / "segment.mp4"
    path.write_bytes(random.Random(size).randbytes(size))
    item = Item(
        "data/segment.mp4", "bag", size, hashlib.sha256(path.read_bytes()).hexdigest(), path
    )
    _, parts = local_digests(item)
    with open(path, "r+b") as f:  # changed after it was hashed, before it is read to be sent
        f.seek(size - 10)
        f.write(b"\xff" * 10)
    target = Target(s3_env.endpoint, bucket, "", "us-east-1", s3_env.access_key, s3_env.secret_key)
    pusher = Pusher(
        client(target), target, base="x", locked=False, retain_until=None, on_bytes=None, workers=2
    )
    try:
        with pytest.raises(VerificationFailed, match="BadDigest"):
            pusher._upload(item, "x/data/segment.mp4", parts)
    finally:
        pusher.close()
    assert "x/data/segment.mp4" not in versions(admin, bucket)
    assert admin.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


@pytest.mark.parametrize(
    "size", [100_000, SINGLE_PUT_MAX + 5 * 1024 * 1024], ids=["single-put", "multipart"]
)
def test_one_object_sent_and_verified(tmp_path, s3_env, admin, bucket, size):
    """A file under the single-request cut-off goes in one streamed PutObject, a larger one in
    parts: either way the storage holds its bytes, with the checksum the push verified."""
    from ppe_tech.region.handover import Item
    from ppe_tech.region.push import Pusher
    from ppe_tech.region.s3 import Target, client

    path = tmp_path / "segment.mp4"
    path.write_bytes(random.Random(size).randbytes(size))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    item = Item("data/segment.mp4", "bag", size, digest, path)
    target = Target(s3_env.endpoint, bucket, "", "us-east-1", s3_env.access_key, s3_env.secret_key)
    pusher = Pusher(
        client(target), target, base="x", locked=False, retain_until=None, on_bytes=None, workers=2
    )
    try:
        assert pusher.one(item).outcome == "sent"
        assert pusher.sent_bytes == size
        assert pusher.one(item).outcome == "present"  # nothing sent again
    finally:
        pusher.close()
    stored = admin.get_object(Bucket=bucket, Key="x/data/segment.mp4", ChecksumMode="ENABLED")
    assert hashlib.sha256(stored["Body"].read()).hexdigest() == digest
    checksum = stored.get("ChecksumSHA256", "")
    parts = -(-size // PART_SIZE)  # composite "digest-N" for N parts, plain for one request
    assert checksum.endswith(f"-{parts}") if size > SINGLE_PUT_MAX else "-" not in checksum
