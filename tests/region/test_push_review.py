"""Push of the demo point to a real SeaweedFS with object lock, then the regional review."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.region.region_helpers import run_cli, versions


def _push(exam: str, *extra: str):
    result = run_cli("region", "push", "--exam", exam, "--json", *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_push_sends_every_object_checksummed_and_locked(point, exams, admin, bucket):
    past, _ = exams
    summary = _push(past)
    base = f"77/7701/{past}/"
    assert summary["base_key"] + "/" == base and summary["sent"] == summary["objects"]
    found = versions(admin, bucket, base)
    bag = sorted(k for k in found if "/bag/" in k)
    manifest = (point / "archive").glob("*/manifest-sha256.txt")
    lines = next(manifest).read_text().splitlines()
    assert len([k for k in bag if "/data/" in k]) == len(lines) == 53
    assert any(k.endswith("/pak/log-12.jsonl") or "/pak/log-" in k for k in found)
    assert any("/reports/" in k and k.endswith(".pdf") for k in found)
    until = datetime(
        datetime.fromisoformat(past[:10]).year + 1, 3, 1, tzinfo=ZoneInfo("Europe/Moscow")
    )
    for line in lines:  # each payload object: the storage's SHA-256 is the manifest's
        digest, path = line.split(None, 1)
        key = f"{base}bag/{next((point / 'archive').iterdir()).name}/{path}"
        head = admin.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        assert head["Metadata"]["sha256"] == digest
        if "-" not in head["ChecksumSHA256"]:  # single PUT: the plain SHA-256 of the object
            assert base64.b64decode(head["ChecksumSHA256"]).hex() == digest
        assert head["ObjectLockMode"] == "COMPLIANCE"
        assert head["ObjectLockRetainUntilDate"] == until
    assert all(len(v) == 1 for v in found.values())


def test_second_push_sends_nothing_again(point, exams, admin, bucket):
    past, _ = exams
    first = _push(past)
    again = _push(past)
    assert again["already_there"] == first["objects"] - 1  # all but the new push record
    assert again["sent"] == 1 and again["sent_bytes"] < 100_000
    found = versions(admin, bucket, f"77/7701/{past}/")
    assert all(len(v) == 1 for v in found.values())  # no key was written twice
    assert len([k for k in found if "/handover/" in k]) == 2


def test_review_of_the_demo_point(point, exams, s3_env, bucket):
    past, today = exams
    _push(past)
    _push(today)
    result = run_cli(
        "region", "review", "--bucket", bucket, "--endpoint", s3_env.endpoint, "--json"
    )
    review = json.loads(result.stdout)
    rows = {row["exam"]: row for row in review["exams"]}
    assert rows[past]["bag"] == "1 verified"
    assert all(r["ok"] and r["signatures"] >= 1 for r in rows[past]["reports"])
    with sqlite3.connect(point / "ppe.db") as conn:  # the whole log, as the point has it
        entries = conn.execute("SELECT COUNT(*) FROM pak_entries").fetchone()[0]
    assert entries > 0 and rows[past]["log"]["ok"] and rows[past]["log"]["entries"] == entries
    assert rows[past]["log"]["reports_consistent"] == len(rows[past]["reports"])
    # the demo's past exam had no checklist run: the review says so, and fails the point
    assert rows[past]["problems"] == ["no checklist run recorded for the exam (push record)"]
    assert rows[today]["ok"], rows[today]["problems"]
    assert rows[today]["deadline"] == "on time"
    assert rows[today]["deadline_source"] == "signed readiness report"
    assert {r["signatures"] for r in rows[today]["reports"]} == {1, 2}  # readiness countersigned
    assert result.returncode == 1
    only_today = run_cli(
        "region",
        "review",
        "--bucket",
        bucket,
        "--endpoint",
        s3_env.endpoint,
        "--point",
        "7701",
        "--exam",
        today,
    )
    assert only_today.returncode == 0, only_today.stdout + only_today.stderr
    assert "1 point, 1 exam reviewed" in only_today.stdout


def test_status_agrees_then_finds_a_changed_object(point, exams, admin, bucket):
    past, _ = exams
    _push(past)
    status = run_cli("region", "status", "--json")
    assert status.returncode == 0, status.stderr
    (row,) = json.loads(status.stdout)
    assert (
        row["exam_id"] == past
        and row["storage_agrees"] is True
        and row["last_status"] == "complete"
    )
    key = next(k for k in versions(admin, bucket, f"77/7701/{past}/reports/"))
    admin.put_object(Bucket=bucket, Key=key, Body=b"%PDF-1.7 not the report")  # a new version
    status = run_cli("region", "status", "--json")
    assert status.returncode == 1
    (row,) = json.loads(status.stdout)
    assert row["storage_agrees"] is False and key in row["problems"][0]


def test_review_finds_a_tampered_bag_object(point, exams, admin, bucket, s3_env):
    past, _ = exams
    _push(past)
    keys = sorted(k for k in versions(admin, bucket, f"77/7701/{past}/bag/") if "/data/" in k)
    body = admin.get_object(Bucket=bucket, Key=keys[3])["Body"].read()
    tampered = body[:1000] + bytes([body[1000] ^ 0xFF]) + body[1001:]
    assert hashlib.sha256(tampered).hexdigest() != hashlib.sha256(body).hexdigest()
    admin.put_object(Bucket=bucket, Key=keys[3], Body=tampered)  # a new version on top
    result = run_cli(
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
    assert result.returncode == 1
    (row,) = json.loads(result.stdout)["exams"]
    assert row["bag"] == "FAILED"
    relative = keys[3].split("/", 5)[-1]
    assert any(relative in p and "differs from the manifest" in p for p in row["problems"])


def test_review_finds_a_tampered_report(point, exams, admin, bucket, s3_env):
    past, _ = exams
    _push(past)
    key = next(k for k in versions(admin, bucket, f"77/7701/{past}/reports/") if "ARC" in k)
    pdf = admin.get_object(Bucket=bucket, Key=key)["Body"].read()
    at = pdf.index(b"/Contents (") if b"/Contents (" in pdf else len(pdf) // 3
    changed = pdf[:at] + pdf[at:].replace(b"0", b"1", 1)
    admin.put_object(Bucket=bucket, Key=key, Body=changed)
    result = run_cli(
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
    (row,) = json.loads(result.stdout)["exams"]
    bad = [r for r in row["reports"] if "ARC" in r["name"]]
    assert bad and not bad[0]["ok"], row["reports"]
    assert result.returncode == 1
