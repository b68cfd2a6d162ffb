"""``region review``: the regional centre's view of every point's hand-over, from the bucket alone.

Per point and exam (``PREFIX/REGION/POINT/EXAM/``):

- **bag**: every object under ``bag/NAME/`` streamed and hashed against the bag's
  manifests (payload and tag files); missing and extra files are failures;
- **reports**: each PDF's signatures validated (``reportcheck``) against the point's
  handed-over certificates or the region's ``--trust``;
- **log**: the chain recomputed from the export, the newest checkpoint's signature and
  head, and each report's checkpoint consistent with it (``logcheck``);
- **deadline**: each checklist run of the exam finished before its deadline, read from the
  signed readiness report's embedded data when there is one, else from the push record.

Points are independent: they are reviewed in parallel worker processes (pyHanko is pure
Python, so processes, not threads, use both cores), objects of one bag in a few threads,
every object streamed in 1 MiB chunks, so memory stays flat whatever the region's size.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ppe_tech.errors import PpeError
from ppe_tech.i18n import _, ngettext
from ppe_tech.region import logcheck, reportcheck
from ppe_tech.region.s3 import (
    Target,
    check_bucket,
    client,
    hash_object,
    iter_object,
    list_folders,
    list_keys,
    read_object,
)
from ppe_tech.timeutil import human_duration

HASH_THREADS = 4


@dataclass
class ReviewRequest:
    target: Target
    region: str | None = None
    point: str | None = None
    exam: str | None = None
    trust: list[bytes] = field(default_factory=list)  # PEM blobs; empty: each point's own


@dataclass
class ExamReview:
    region: str
    point: str
    exam: str
    bag: str = "none"
    reports: list[dict[str, Any]] = field(default_factory=list)
    log: dict[str, Any] = field(default_factory=dict)
    deadline: str = "-"
    deadline_source: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def cells(self) -> tuple[str, str, str, str]:
        """The bag, reports, log and deadline cells of the review table, as printed."""
        good = sum(1 for r in self.reports if r["ok"])
        reports = (
            _("{good}/{n} verified").format(good=good, n=len(self.reports))
            if self.reports
            else _("none")
        )
        log = (
            _("FAILED")
            if not self.log.get("ok")
            else _("{n} entries, OK").format(n=self.log.get("entries"))
        )
        return _shown(self.bag), reports, log, _shown(self.deadline)

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "point": self.point,
            "exam": self.exam,
            "ok": self.ok,
            "bag": self.bag,
            "reports": self.reports,
            "log": self.log,
            "deadline": self.deadline,
            "deadline_source": self.deadline_source,
            "problems": self.problems,
        }


def _shown(cell: str) -> str:
    """A cell the review keeps in English for --json ("2 verified", "on time"), as printed."""
    count, _space, rest = cell.partition(" ")
    if count.isdigit() and rest == "verified":
        return _("{n} verified").format(n=count)
    words = {
        "none": _("none"),
        "FAILED": _("FAILED"),
        "no check": _("no check"),
        "LATE": _("LATE"),
        "on time": _("on time"),
    }
    return words.get(cell, cell)


@dataclass
class RegionReview:
    location: str
    exams: list[ExamReview]
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.exams)

    def summary(self) -> str:
        points = len({(e.region, e.point) for e in self.exams})
        failed = len({(e.region, e.point) for e in self.exams if not e.ok})
        return _("{points}, {exams} reviewed in {seconds} s: {failed} with a failure").format(
            points=ngettext("{n} point", "{n} points", points).format(n=points),
            exams=ngettext("{n} exam", "{n} exams", len(self.exams)).format(n=len(self.exams)),
            seconds=f"{self.seconds:.1f}",
            failed=failed,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "ok": self.ok,
            "summary": self.summary(),
            "seconds": round(self.seconds, 3),
            "exams": [e.to_json() for e in self.exams],
        }


# -- one exam ---------------------------------------------------------------------------------
def parse_manifest(text: str) -> dict[str, str]:
    from ppe_tech.recordings.bag import decode_path

    entries = {}
    for line in text.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2:
            entries[decode_path(parts[1].strip())] = parts[0].lower()
    return entries


def review_bag(s3, target: Target, prefix: str, keys: dict[str, int]) -> list[str]:
    """Problems of the bag whose objects are under ``prefix`` (``.../bag/NAME/``)."""
    from ppe_tech.recordings.bag import MANIFEST, TAGMANIFEST

    name = prefix.rstrip("/").rsplit("/", 1)[-1]
    if prefix + MANIFEST not in keys:
        return [_("bag {name}: no {file}").format(name=name, file=MANIFEST)]
    expected = parse_manifest(read_object(s3, target, prefix + MANIFEST).decode())
    if prefix + TAGMANIFEST in keys:
        expected |= parse_manifest(read_object(s3, target, prefix + TAGMANIFEST).decode())
    present = {k[len(prefix) :] for k in keys if k.startswith(prefix)} - {TAGMANIFEST}
    missing, extra = (
        _("bag {name}: {path} is missing"),
        _("bag {name}: {path} is not in the manifest"),
    )
    problems = [missing.format(name=name, path=p) for p in sorted(set(expected) - present)]
    problems += [extra.format(name=name, path=p) for p in sorted(present - set(expected))]

    def one(relative: str) -> str | None:
        size, digest = hash_object(s3, target, prefix + relative)
        return (
            None
            if digest == expected[relative]
            else _("bag {name}: {path} differs from the manifest").format(name=name, path=relative)
        )

    with ThreadPoolExecutor(max_workers=HASH_THREADS) as pool:
        problems += [p for p in pool.map(one, sorted(present & set(expected))) if p]
    return problems


def _newest(keys: dict[str, int], prefix: str, suffix: str) -> str | None:
    found = sorted(k for k in keys if k.startswith(prefix) and k.endswith(suffix))
    if suffix == ".jsonl":  # log-SIZE.jsonl: the biggest size, not the last in text order
        found.sort(key=lambda k: int(k.rsplit("-", 1)[-1].split(".")[0] or 0))
    return found[-1] if found else None


def _source_label(source: str) -> str:
    """Where the review read the checklist runs from, as printed (--json keeps the English)."""
    labels = {
        "signed readiness report": _("signed readiness report"),
        "push record": _("push record"),
    }
    return labels.get(source, source)


def deadline_verdict(runs: list[dict[str, Any]], source: str, row: ExamReview) -> None:
    row.deadline_source = source
    if not runs:
        row.deadline = "no check"
        row.problems.append(
            _("no checklist run recorded for the exam ({source})").format(
                source=_source_label(source)
            )
        )
        return
    late = [r for r in runs if (r.get("late_minutes") or 0) > 0 or not r.get("finished_at")]
    for run in late:
        minutes = run.get("late_minutes")
        late_by = _("check {checklist} late by {delay} ({source})")
        unfinished = _("check {checklist} did not finish ({source})")
        row.problems.append(
            (late_by if minutes else unfinished).format(
                checklist=run.get("checklist"),
                delay=human_duration(60 * (minutes or 0)),
                source=_source_label(source),
            )
        )
    row.deadline = "LATE" if late else "on time"


def _readiness_runs(checks: list[reportcheck.ReportCheck], exam: str) -> list | None:
    for check in checks:
        data = check.data or {}
        if (
            check.ok
            and data.get("kind") == "readiness"
            and (data.get("exam") or {}).get("id") == exam
        ):
            return (data.get("readiness") or {}).get("runs") or []
    return None


def review_exam(s3, target: Target, base: str, row: ExamReview, trust: list[bytes]) -> None:
    keys = {o["Key"]: o["Size"] for o in list_keys(s3, target, base)}
    record_key = _newest(keys, base + "handover/", ".json")
    record = json.loads(read_object(s3, target, record_key)) if record_key else {}
    if not record:
        row.problems.append("no hand-over record: the push did not finish")
    pem = trust or (
        [read_object(s3, target, base + "certs/trust.pem")]
        if base + "certs/trust.pem" in keys
        else []
    )
    roots = reportcheck.load_roots(pem)
    _review_bags(s3, target, base, keys, record=record, row=row)
    checks = [
        reportcheck.check_report(k[len(base) :], read_object(s3, target, k), roots)
        for k in sorted(keys)
        if k.startswith(base + "reports/")
    ]
    row.reports = [c.to_json() for c in checks]
    row.problems += [f"{c.name}: {p}" for c in checks for p in c.problems]
    _review_log(s3, target, base, keys, row=row, checks=checks, pem=pem)
    runs = _readiness_runs(checks, row.exam)
    if runs is not None:
        deadline_verdict(runs, "signed readiness report", row)
    else:
        deadline_verdict(record.get("checks") or [], "push record", row)


def _review_bags(
    s3, target: Target, base: str, keys: dict[str, int], *, record: dict, row: ExamReview
) -> None:
    bags = sorted({k[len(base) :].split("/")[1] for k in keys if k.startswith(base + "bag/")})
    problems = []
    for name in bags:
        problems += review_bag(s3, target, f"{base}bag/{name}/", keys)
    row.problems += problems
    if bags:
        row.bag = "FAILED" if problems else f"{len(bags)} verified"
    elif record.get("bags", 0) or _exam_over(record):
        row.problems.append(_("no archive bag handed over"))


def _exam_over(record: dict) -> bool:
    exam, pushed = record.get("exam") or {}, record.get("pushed_at")
    return bool(exam.get("end") and pushed and exam["end"] <= pushed)


def _review_log(
    s3,
    target: Target,
    base: str,
    keys: dict[str, int],
    *,
    row: ExamReview,
    checks: list[reportcheck.ReportCheck],
    pem: list[bytes],
) -> None:
    from cryptography import x509

    log_key = _newest(keys, base + "pak/log-", ".jsonl")
    cp_key = _newest(keys, base + "pak/checkpoint-", ".txt")
    if not log_key or not cp_key:
        row.problems.append(_("no log export or checkpoint handed over"))
        row.log = {"ok": False}
        return
    certificates = [c for blob in pem for c in x509.load_pem_x509_certificates(blob)]
    carried = [(c.name, ((c.data or {}).get("checkpoint") or {}).get("text")) for c in checks]
    result = logcheck.check_log(
        logcheck.lines_of(iter_object(s3, target, log_key)),
        read_object(s3, target, cp_key).decode(),
        point=row.point,
        report_checkpoints=[(n, t) for n, t in carried if t],
        certificates=certificates,
    )
    row.log = result.to_json()
    row.problems += [_("log: {problem}").format(problem=p) for p in result.problems]


# -- one point, the region ----------------------------------------------------------------------
def review_point(
    target: Target, region: str, point: str, exam: str | None, trust: list[bytes]
) -> list[ExamReview]:
    """Every exam of one point (runs in a worker process: its own client)."""
    import logging

    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    s3 = client(target, pool=HASH_THREADS + 2)
    base = target.key(region, point) + "/"
    exams = [exam] if exam else list_folders(s3, target, base)
    rows = []
    for name in exams:
        row = ExamReview(region, point, name)
        try:
            review_exam(s3, target, f"{base}{name}/", row, trust)
        except PpeError as exc:  # one point's storage trouble is that point's failure
            row.problems.append(exc.message)
        rows.append(row)
    return rows


def _units(s3, request: ReviewRequest) -> list[tuple[str, str]]:
    target = request.target
    root = target.key() + "/" if target.key() else ""
    regions = [request.region] if request.region else list_folders(s3, target, root)
    units = []
    for region in regions:
        points = [request.point] if request.point else list_folders(s3, target, f"{root}{region}/")
        units += [(region, p) for p in points]
    return units


def review_region(request: ReviewRequest, *, workers: int = 2) -> RegionReview:
    started = time.perf_counter()
    s3 = client(request.target)
    check_bucket(s3, request.target)  # missing bucket, bad endpoint, wrong credentials: one line
    units = _units(s3, request)
    args = [(request.target, r, p, request.exam, request.trust) for r, p in units]
    if workers == 1 or len(units) <= 1:
        rows = [row for a in args for row in review_point(*a)]
    else:
        import multiprocessing

        spawn = multiprocessing.get_context("spawn")  # no fork of a process holding threads
        with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
            rows = [
                row for rows in pool.map(review_point, *zip(*args, strict=True)) for row in rows
            ]
    return RegionReview(request.target.where(), rows, time.perf_counter() - started)
