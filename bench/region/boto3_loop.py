"""What a regional admin would script with boto3: ``upload_file`` for every file of a bag.

    python bench/region/boto3_loop.py BAG ENDPOINT BUCKET PREFIX [--sha256-and-lock]

boto3's defaults (multipart from 8 MiB, 10 threads per file), one file after the other, no check
against the manifest. By default no checksum beyond boto3's own default (CRC32) and no lock;
with ``--sha256-and-lock`` (into a bucket with object lock) every object is sent with a SHA-256
checksum the storage checks and a COMPLIANCE retention until 1 March next year, as ppe-tech
sends them: the like-for-like case.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import boto3


def main() -> None:
    bag, endpoint, bucket, prefix = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    extra = {}
    if "--sha256-and-lock" in sys.argv[5:]:
        until = datetime(datetime.now(UTC).year + 1, 3, 1, tzinfo=UTC)
        extra = {
            "ChecksumAlgorithm": "SHA256",
            "ObjectLockMode": "COMPLIANCE",
            "ObjectLockRetainUntilDate": until,
        }
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    for path in sorted(p for p in bag.rglob("*") if p.is_file()):
        key = f"{prefix}/{path.relative_to(bag).as_posix()}"
        s3.upload_file(str(path), bucket, key, ExtraArgs=extra)


if __name__ == "__main__":
    main()
