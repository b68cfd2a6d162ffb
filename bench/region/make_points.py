"""Make N synthetic exam points and push each to a bucket: the data of the review benchmark.

    python bench/region/make_points.py DIR --points 100 --endpoint URL --bucket NAME

Each point is a real site made through the library: its own ppe.yaml (point code 9000+i),
a copy of one site key, two 10-minute recordings of the shipped real clip archived as a
bag (BagIt, checksummed), a PAK log entry (the archive's), the archive act and the
access-log extract rendered, signed and registered, and then ``region push``: a small bag,
two signed reports and a signed checkpoint per point, as the issue asks. Points are made
in two processes. Credentials: $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY.
"""

from __future__ import annotations

import argparse
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

EXAM = "2026-05-28-math"


def config(code: str, endpoint: str, bucket: str) -> dict:
    return {
        "point": {
            "code": code,
            "name": f"School {code}",
            "region": "77",
            "timezone": "Europe/Moscow",
            "language": "en",
        },
        "staff": {
            "technician": {"name": "Ivanov I.I.", "position": "technician"},
            "head": {"name": "Petrov A.A.", "position": "head"},
        },
        "exams": [
            {
                "id": EXAM,
                "subject": "Mathematics",
                "date": "2026-05-28",
                "start": "10:00",
                "duration": "10m",
            }
        ],
        "cameras": [{"id": "corridor-1", "zone": "corridor", "source": "x"}],
        "recordings": {
            "root": "recordings/",
            "layout": "{date}/{hour}/{camera}/{minute}.{second}.mp4",
        },
        "archive": {"target": "archive/", "margin": "0s"},
        "region": {"endpoint": endpoint, "bucket": bucket},
    }


def make_point(root: str, index: int, endpoint: str, bucket: str, segment: str, keys: str) -> str:
    from ppe_tech.recordings.archive import archive_exam, plan_archive
    from ppe_tech.recordings.layout import compile_layout
    from ppe_tech.region.push import push_exam, target_from_site
    from ppe_tech.reports.core import make_report
    from ppe_tech.site import load_site
    from ppe_tech.store import connect

    code = f"{9000 + index}"
    folder = Path(root) / code
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ppe.yaml").write_text(
        yaml.safe_dump(config(code, endpoint, bucket), sort_keys=False)
    )
    shutil.copytree(keys, folder / "keys", dirs_exist_ok=True)
    site = load_site(folder)
    layout = compile_layout(site.config.recordings.layout)
    start = site.config.exams[0].start_at(site.tz).astimezone(UTC)
    for moment in (start - timedelta(minutes=5), start + timedelta(minutes=5)):
        path = folder / "recordings" / layout.path_for("corridor-1", moment, UTC)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(segment, path)
        os.utime(path, (datetime(2026, 5, 28, tzinfo=UTC).timestamp(),) * 2)
    conn = connect(site.db_path)
    (folder / "archive").mkdir(exist_ok=True)
    archive_exam(site, conn, plan_archive(site, conn, EXAM), folder / "archive", decode=False)
    make_report(site, conn, "archive", EXAM)
    make_report(site, conn, "access-log", EXAM)
    push_exam(site, conn, site.exam(EXAM), target_from_site(site))
    return code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=Path)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--bucket", required=True)
    args = parser.parse_args()
    os.environ.setdefault("PPE_KEY_PASSPHRASE", "bench")
    from ppe_tech.keys import init_keys
    from ppe_tech.recordings.demo import encode_segment
    from ppe_tech.site import load_site

    args.dir.mkdir(parents=True, exist_ok=True)
    template = args.dir / "template"
    template.mkdir(exist_ok=True)
    (template / "ppe.yaml").write_text(yaml.safe_dump(config("9999", args.endpoint, args.bucket)))
    if not (template / "keys" / "site.cert.pem").exists():
        init_keys(load_site(template), None)
    segment = encode_segment(args.dir / "segment.mp4")
    with ProcessPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(
                make_point,
                str(args.dir / "points"),
                i,
                args.endpoint,
                args.bucket,
                str(segment),
                str(template / "keys"),
            )
            for i in range(args.points)
        ]
        for n, future in enumerate(futures, 1):
            code = future.result()
            if n % 10 == 0:
                print(f"{n} points made and pushed (last {code})", flush=True)


if __name__ == "__main__":
    main()
