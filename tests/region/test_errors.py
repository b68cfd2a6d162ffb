"""Bad endpoint, wrong credentials, missing bucket: one line and a documented exit code each;
the credentials never appear in any output, the store or the push records."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest
import yaml

from ppe_tech.region.server import free_ports
from tests.conftest import one_error_line
from tests.region.region_helpers import run_cli


def _set_region(point, **region) -> None:
    config = yaml.safe_load((point / "ppe.yaml").read_text())
    config["region"] = {**config["region"], **region}
    (point / "ppe.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))


def test_bad_endpoint_is_exit_3(point, exams):
    (port,) = free_ports(1)  # nothing listens there
    _set_region(point, endpoint=f"http://127.0.0.1:{port}")
    result = run_cli("region", "push", "--exam", exams[0])
    one_error_line(result, 3, "cannot reach the storage", f"127.0.0.1:{port}")


def test_wrong_credentials_are_exit_5(point, exams, s3_env):
    env = {"AWS_SECRET_ACCESS_KEY": "not-the-secret-" + "x" * 20}
    one_error_line(
        run_cli("region", "push", "--exam", exams[0], env=env), 5, "refused the credentials"
    )
    review = run_cli("region", "review", "--bucket", "any", "--endpoint", s3_env.endpoint, env=env)
    one_error_line(review, 5, "refused the credentials")


def test_missing_credentials_are_exit_5(point, exams):
    env = {"AWS_ACCESS_KEY_ID": ""}
    one_error_line(run_cli("region", "push", "--exam", exams[0], env=env), 5, "AWS_ACCESS_KEY_ID")


@pytest.mark.parametrize("command", ["push", "review"])
def test_missing_bucket_is_exit_2(point, exams, s3_env, command):
    if command == "push":
        _set_region(point, bucket="no-such-bucket")
        result = run_cli("region", "push", "--exam", exams[0])
    else:
        result = run_cli(
            "region", "review", "--bucket", "no-such-bucket", "--endpoint", s3_env.endpoint
        )
    one_error_line(result, 2, "'no-such-bucket' does not exist")


def test_unset_bucket_is_exit_2(point, exams):
    config = yaml.safe_load((point / "ppe.yaml").read_text())
    del config["region"]["bucket"]
    (point / "ppe.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    one_error_line(run_cli("region", "push", "--exam", exams[0]), 2, "region.bucket")


def test_credentials_never_in_any_output_or_record(point, exams, s3_env, bucket, plain_bucket):
    secret, access = s3_env.secret_key, s3_env.access_key
    past, today = exams
    outputs = [
        run_cli("region", "push", "--exam", past),
        run_cli("region", "push", "--exam", today, "--json"),
        run_cli("region", "push", "--exam", past, "--bucket", plain_bucket, "--json"),
        run_cli("region", "status"),
        run_cli("region", "status", "--json"),
        run_cli("region", "review", "--bucket", bucket, "--endpoint", s3_env.endpoint),
        run_cli("region", "review", "--bucket", bucket, "--endpoint", s3_env.endpoint, "--json"),
        run_cli("site", "show", "--json"),
        run_cli(
            "--debug", "region", "push", "--exam", past, env={"AWS_SECRET_ACCESS_KEY": secret + "x"}
        ),
        run_cli("region", "push", "--exam", past, "--bucket", "no-such-bucket"),
    ]
    for result in outputs:
        assert secret not in result.stdout + result.stderr
    assert outputs[8].returncode == 5
    dump = "\n".join(sqlite3.connect(point / "ppe.db").iterdump())
    assert "region_pushes" in dump and secret not in dump and access not in dump
    handed = subprocess.run(  # what the region received: the push records and everything else
        [
            sys.executable,
            "-c",
            "import boto3,sys;c=boto3.client('s3',endpoint_url=sys.argv[1]);"
            "b=sys.argv[2];print(''.join(c.get_object(Bucket=b,Key=o['Key'])['Body'].read().decode('latin-1')"
            " for o in c.list_objects_v2(Bucket=b)['Contents']))",
            s3_env.endpoint,
            bucket,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "handover" in handed or "ppe-tech" in handed
    assert secret not in handed and access not in handed
