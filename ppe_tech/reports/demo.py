"""Demo steps of the reports job: the site's keys first, the three signed reports last."""

from __future__ import annotations

from pathlib import Path

from ppe_tech.demo import step_line
from ppe_tech.errors import VerificationFailed
from ppe_tech.i18n import _


def make_keys(demo) -> str:
    """First demo step: the site root key (passphrase from $signing.passphrase_env) and the
    head's own key issued by it (passphrase $PPE_KEY_PASSPHRASE_HEAD, default "demo-head")."""
    import os

    from ppe_tech.keys import describe_certificate, init_keys, site_certificate
    from ppe_tech.signers import init_person, passphrase_env

    key, _cert = init_keys(demo.site, None)
    info = describe_certificate(site_certificate(demo.site))
    head_env = passphrase_env(demo.site, "head")
    os.environ.setdefault(head_env, "demo-head")
    init_person(demo.site, "head", passphrase=os.environ[head_env].encode())
    return _(
        "site key {key} (0600) and self-signed certificate, valid until {until}; the head's own "
        "key, issued by it"
    ).format(key=key.name, until=info["not_after"][:10])


def run(demo) -> str:
    """Last demo step: readiness (today), archive act (yesterday), access-log extract;
    the readiness protocol countersigned by the head; all three verified."""
    from ppe_tech.reports.core import countersign, make_report
    from ppe_tech.reports.verify import verify_report

    site, conn = demo.site, demo.db
    made = [
        make_report(site, conn, "readiness", demo.exam_id),
        make_report(site, conn, "archive", demo.past_exam_id),
        make_report(site, conn, "access-log"),
    ]
    countersign(site, conn, Path(made[0]["file"]), "head")
    verdicts = []
    for row in made:
        result = verify_report(site, conn, Path(row["file"]))
        demo.log(step_line("reports", result.verdict))
        if not result.ok:
            raise VerificationFailed(result.verdict)
        signatures = _("{n} sig.").format(n=len(result.signatures))
        verdicts.append(f"{row['number']} ({signatures})")
    return _("{n} signed reports in reports/, verified: {reports}").format(
        n=len(made), reports=", ".join(verdicts)
    )
