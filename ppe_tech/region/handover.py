"""What a point hands over for an exam, as a list of objects with their expected SHA-256.

Keys are relative to ``PREFIX/REGION/POINT/EXAM/``:

- ``bag/NAME/...``: every file of each archive bag of the exam (payload and tag files);
  the expected checksum of a payload file is the bag manifest's, of a tag file the tag
  manifest's (``tagmanifest-sha256.txt`` itself is hashed as it is);
- ``reports/FILE.pdf``: each signed report of the exam (and each access-log extract whose
  period covers the exam day); expected: the SHA-256 the store registered;
- ``pak/log-SIZE.jsonl``: the PAK log's entries 1..SIZE with their canonical bytes and
  hashes (a header line, then ``{"seq", "body", "hash"}`` per entry), enough to recompute
  the chain without the point's store; ``pak/checkpoint-SIZE-TIME.txt``: the newest
  signed checkpoint, which covers exactly those SIZE entries;
- ``certs/trust.pem``: the certificates the point's signatures verify with;
- ``handover/TIME.json``: the record of one push, written last (see ``record``).

Everything but the record is the same bytes on every push of the same state, so a push
can be repeated and resumed; a key whose bytes would differ is a change on the point.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ppe_tech.errors import ConfigError, VerificationFailed
from ppe_tech.i18n import _

if TYPE_CHECKING:
    from ppe_tech.site import Exam, Site


@dataclass
class Item:
    """One object of the hand-over: a file on the point, or bytes made for the hand-over."""

    key: str  # relative to the exam's folder in the bucket
    kind: str  # bag | report | log | checkpoint | certs | record
    size: int
    sha256: str  # expected, hex
    path: Path | None = None
    data: bytes | None = None

    @classmethod
    def of_bytes(cls, key: str, kind: str, data: bytes) -> Item:
        return cls(key, kind, len(data), hashlib.sha256(data).hexdigest(), data=data)

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "size": self.size, "sha256": self.sha256}


def retention_until(site: Site, exam: Exam) -> datetime:
    """1 March of the year after the exam, 00:00 in the point's time zone."""
    return datetime(exam.date.year + 1, 3, 1, tzinfo=site.tz)


def bag_items(bag: Path) -> list[Item]:
    from ppe_tech.recordings.bag import MANIFEST, TAGMANIFEST, hash_file, read_manifest

    if not (bag / MANIFEST).is_file():
        raise ConfigError(
            _("{bag}: the archive's bag is not there (moved or deleted?)").format(bag=bag)
        )
    expected = read_manifest(bag, MANIFEST)
    if (bag / TAGMANIFEST).is_file():
        expected.update(read_manifest(bag, TAGMANIFEST))
        expected[TAGMANIFEST] = hash_file(bag / TAGMANIFEST)
    items = []
    for relative in sorted(expected):
        path = bag.joinpath(*relative.split("/"))
        if not path.is_file():
            raise VerificationFailed(
                _("bag {name}: {path} is missing on the point").format(name=bag.name, path=relative)
            )
        size = path.stat().st_size
        items.append(Item(f"bag/{bag.name}/{relative}", "bag", size, expected[relative], path))
    return items


def _covers(report: dict[str, Any], day: date) -> bool:
    period = (report.get("data") or {}).get("access_log") or {}
    low, high = period.get("date_from"), period.get("date_to")
    return (not low or low <= day.isoformat()) and (not high or day.isoformat() <= high)


def report_items(site: Site, conn: sqlite3.Connection, exam: Exam) -> list[Item]:
    from ppe_tech.reports.core import list_reports, show_report

    items = []
    for row in list_reports(conn):
        if row["exam_id"] != exam.id:
            if row["kind"] != "access-log" or row["exam_id"] is not None:
                continue
            if not _covers(show_report(site, conn, row["number"], with_data=True), exam.date):
                continue
        path = site.path(row["path"])
        if not path.is_file():
            raise ConfigError(
                _("report {number}: {path} is missing on the point").format(
                    number=row["number"], path=path
                )
            )
        items.append(
            Item(f"reports/{path.name}", "report", path.stat().st_size, row["sha256"], path)
        )
    return items


def log_items(site: Site, conn: sqlite3.Connection) -> tuple[list[Item], dict[str, Any]]:
    """The log export and the newest signed checkpoint (a fresh one when the log grew)."""
    from ppe_tech.pak.chain import create_checkpoint
    from ppe_tech.pak.checkpoint import latest_checkpoint
    from ppe_tech.pak.journal import genesis_hash
    from ppe_tech.pak.results import log_id

    rows = conn.execute("SELECT COUNT(*) FROM pak_entries").fetchone()[0]
    cp = latest_checkpoint(conn)
    if cp is None or cp.size < rows:
        cp = create_checkpoint(site, conn)  # signs only an intact chain
    lid = log_id(conn)
    header = {
        "log_id": lid,
        "point": site.config.point.code,
        "size": cp.size,
        "genesis": genesis_hash(lid).hex(),
    }
    lines = [json.dumps(header, sort_keys=True)]
    query = "SELECT seq, CAST(body AS TEXT), hash FROM pak_entries WHERE seq <= ? ORDER BY seq"
    for seq, body, digest in conn.execute(query, (cp.size,)):
        lines.append(json.dumps({"seq": seq, "body": body, "hash": bytes(digest).hex()}))
    export = ("\n".join(lines) + "\n").encode()
    stamp = cp.created_at.strftime("%Y%m%dT%H%M%SZ")
    items = [
        Item.of_bytes(f"pak/log-{cp.size}.jsonl", "log", export),
        Item.of_bytes(f"pak/checkpoint-{cp.size}-{stamp}.txt", "checkpoint", cp.text.encode()),
    ]
    return items, {"size": cp.size, "head_hash": cp.head_hash, "log_id": lid}


def certs_item(site: Site) -> Item:
    from cryptography.hazmat.primitives import serialization

    from ppe_tech.keys import trust_roots

    roots = trust_roots(site)
    if not roots:
        raise ConfigError(_("the site has no certificate to hand over (ppe-tech keys init)"))
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in roots)
    return Item.of_bytes("certs/trust.pem", "certs", pem)


def checklist_timeliness(conn: sqlite3.Connection, exam: Exam) -> list[dict[str, Any]]:
    """Each checklist's newest run of the exam: when it finished against its deadline."""
    from ppe_tech.checklist.results import list_runs

    latest: dict[str, dict[str, Any]] = {}
    for run in list_runs(conn, exam_id=exam.id):
        latest[run.checklist] = run.to_json()
    keys = ("run_id", "checklist", "finished_at", "deadline", "late_minutes", "status")
    return [{k: run.get(k) for k in keys} for run in latest.values()]


@dataclass
class Handover:
    """Everything one push sends for one exam, and what its record will say."""

    exam: Exam
    items: list[Item]
    checkpoint: dict[str, Any]
    checks: list[dict[str, Any]]
    retain_until: datetime
    bags: int = 0

    @property
    def total_bytes(self) -> int:
        return sum(i.size for i in self.items)

    def record(self, site: Site, *, pushed_at: datetime, locked: bool) -> Item:
        """``handover/TIME.json``: who, which exam, every object and the deadlines.

        TIME is in microseconds: two pushes within one second (a re-push of a small point)
        are two records, never one key written twice.
        """
        from ppe_tech import __version__
        from ppe_tech.timeutil import iso

        point = site.config.point
        body = {
            "point": {"code": point.code, "name": point.name, "region": point.region},
            "exam": {
                "id": self.exam.id,
                "subject": self.exam.subject,
                "date": self.exam.date.isoformat(),
                "start": self.exam.start_at(site.tz).isoformat(),
                "end": iso(self.exam.end_at(site.tz).astimezone(UTC)),
                "deadline": site.deadline(self.exam).isoformat(),
            },
            "checks": self.checks,
            "checkpoint": self.checkpoint,
            "pushed_at": iso(pushed_at),
            "retain_until": self.retain_until.isoformat() if locked else None,
            "bags": self.bags,
            "objects": [i.to_json() for i in self.items],
            "tool": f"ppe-tech {__version__}",
        }
        stamp = pushed_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        data = json.dumps(body, ensure_ascii=False, indent=1).encode()
        return Item.of_bytes(f"handover/{stamp}.json", "record", data)


def plan_handover(site: Site, conn: sqlite3.Connection, exam: Exam) -> Handover:
    from ppe_tech.recordings.results import list_archives

    bags = sorted({a["bag_path"] for a in list_archives(conn) if a["exam_id"] == exam.id})
    items: list[Item] = []
    for bag in bags:
        items += bag_items(site.path(bag))
    items += report_items(site, conn, exam)
    log, checkpoint = log_items(site, conn)
    items += [*log, certs_item(site)]
    return Handover(
        exam,
        items,
        checkpoint,
        checklist_timeliness(conn, exam),
        retention_until(site, exam),
        bags=len(bags),
    )
