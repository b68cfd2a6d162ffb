"""Start the benchmark's SeaweedFS and make buckets (a thin wrapper of ppe_tech.region.server).

eval "$(python bench/region/s3.py start DIR)"     # exports S3_ENDPOINT, S3_PID and the keys
python bench/region/s3.py bucket NAME [--lock]    # uses $S3_ENDPOINT and the keys
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path


def main() -> None:
    from ppe_tech.region.s3 import client_for
    from ppe_tech.region.server import start_local_s3

    if sys.argv[1] == "start":
        server = start_local_s3(Path(sys.argv[2]), volume_mb=1024)
        exports = {
            **server.env(),
            "S3_ENDPOINT": server.endpoint,
            "S3_PID": str(server.process.pid),
        }
        print("; ".join(f"export {k}={shlex.quote(v)}" for k, v in exports.items()))
        return
    s3 = client_for(
        os.environ["S3_ENDPOINT"],
        os.environ["AWS_ACCESS_KEY_ID"],
        os.environ["AWS_SECRET_ACCESS_KEY"],
    )
    s3.create_bucket(Bucket=sys.argv[2], ObjectLockEnabledForBucket="--lock" in sys.argv)


if __name__ == "__main__":
    main()
