"""What a regional admin would script with boto3: ``upload_file`` for every file of a bag.

    python bench/region/boto3_loop.py BAG ENDPOINT BUCKET PREFIX

boto3's defaults (multipart from 8 MiB, 10 threads per file), no checksum beyond boto3's
own default, no lock, no check against the manifest, one file after the other.
"""

from __future__ import annotations

import sys
from pathlib import Path

import boto3


def main() -> None:
    bag, endpoint, bucket, prefix = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    for path in sorted(p for p in bag.rglob("*") if p.is_file()):
        s3.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(bag).as_posix()}")


if __name__ == "__main__":
    main()
