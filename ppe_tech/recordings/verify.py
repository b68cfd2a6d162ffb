"""``recordings verify``: a bag checked against its own manifests and, when the site knows it,
against the site's record of it.

A bag's manifests only prove that its files are the ones its manifests list: delete files and
re-make the manifests (``bagit.py`` does it in one command) and the bag is self-consistent
again. The store recorded, when the bag was written, its file count, every file's checksum and
the hash of its manifest, and ``ppe-archive.json`` in the bag says the same. So when the site's
store has an archive written to this folder, under this bag's name, or with this bag's manifest,
the bag must match one of them, or it is INVALID whatever its manifests say.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ppe_tech.errors import PpeError
from ppe_tech.i18n import _
from ppe_tech.recordings import bag as bagit_
from ppe_tech.recordings.archive import ARCHIVE_JSON, read_archive_json
from ppe_tech.recordings.results import ArchiveRecord, StoredArchive, archives_of_bag


@dataclass(frozen=True, kw_only=True)
class SiteCheck:
    """How the bag compares with the site's record of it."""

    known: bool  # the store has an archive that is (or claims to be) this bag
    matches: bool  # the bag is exactly what one of those archives recorded
    run_id: int | None  # the matching archive, or the closest one when none matches
    note: str

    @classmethod
    def unknown(cls, note: str) -> SiteCheck:
        return cls(known=False, matches=False, run_id=None, note=note)

    @classmethod
    def against(cls, stored: StoredArchive, *, matches: bool) -> SiteCheck:
        note = (
            _("matches the site's record (run {n})")
            if matches
            else _("does not match the site's record (run {n})")
        ).format(n=stored.run_id)
        return cls(known=True, matches=matches, run_id=stored.run_id, note=note)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def verify_archive(
    bag: Path,
    *,
    conn: sqlite3.Connection | None,
    fast: bool = False,
    workers: int | None = None,
    on_bytes: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> bagit_.VerifyResult:
    """``bag.verify_bag``, then the comparison with the site's store (``conn``; None: no site)."""
    result = bagit_.verify_bag(
        bag, fast=fast, workers=workers, on_bytes=on_bytes, on_total=on_total
    )
    result.site, problems = compare_with_site(conn, Path(bag))
    result.problems.extend(problems)
    return result


def compare_with_site(
    conn: sqlite3.Connection | None, bag: Path
) -> tuple[SiteCheck, list[dict[str, Any]]]:
    """The site's verdict on ``bag``, and the problems when it is not what the site recorded."""
    if conn is None:
        return SiteCheck.unknown(_("no site: checked against the bag's own manifests only")), []
    facts = _BagFacts.read(bag)
    here = os.path.abspath(bag)
    candidates = archives_of_bag(
        conn, bag_path=here, bag_name=bag.resolve().name, manifest_hashes=facts.manifest_hashes()
    )
    if not candidates:
        return SiteCheck.unknown(_("the site has no record of this bag")), []
    for stored in candidates:
        if not facts.differences(stored):
            return SiteCheck.against(stored, matches=True), []
    # compared with the archive written to this very folder when there is one, else the newest
    closest = min(candidates, key=lambda s: (s.bag_path != here, -s.run_id))
    return SiteCheck.against(closest, matches=False), facts.differences(closest)


@dataclass(frozen=True, kw_only=True)
class _BagFacts:
    """What the bag says about itself now: its manifest's hash and entries, its archive record."""

    manifest_sha256: str | None  # of the manifest's entries in the archiver's form
    manifest: dict[str, str]  # bag path -> sha256
    record: ArchiveRecord | None
    record_error: str

    @classmethod
    def read(cls, bag: Path) -> _BagFacts:
        try:
            manifest = bagit_.read_manifest(bag, bagit_.MANIFEST)
        except PpeError:
            manifest = {}
        # the hash of the manifest as the archiver writes it: the same entries in any order or
        # spacing (a manifest re-made by bagit.py) give the same hash
        text = bagit_.manifest_text(list(manifest.items()))
        digest = hashlib.sha256(text.encode()).hexdigest() if manifest else None
        try:
            record, error = read_archive_json(bag), ""
        except PpeError as exc:
            record, error = None, exc.message
        return cls(manifest_sha256=digest, manifest=manifest, record=record, record_error=error)

    def manifest_hashes(self) -> list[str]:
        found = [self.manifest_sha256, self.record.manifest_sha256 if self.record else None]
        return [h for h in dict.fromkeys(found) if h]

    def differences(self, stored: StoredArchive) -> list[dict[str, Any]]:
        """Problems of this bag against what ``stored`` recorded; [] when it is that archive."""
        want = stored.record
        run = _("the site's record (run {n})").format(n=stored.run_id)
        problems: list[dict[str, Any]] = []
        if self.manifest_sha256 != want.manifest_sha256 or len(self.manifest) != want.file_count:
            problems.append(
                {
                    "kind": "site-record",
                    "message": _(
                        "{record}: {files} files, manifest sha256 {manifest}; this bag: "
                        "{bag_files} files, manifest sha256 {bag_manifest}"
                    ).format(
                        record=run,
                        files=want.file_count,
                        manifest=want.manifest_sha256[:16],
                        bag_files=len(self.manifest),
                        bag_manifest=(self.manifest_sha256 or _("none"))[:16],
                    ),
                }
            )
        recorded = {f["path"]: f["sha256"] for f in want.files}
        for path in sorted(set(recorded) - set(self.manifest)):
            problems.append(
                {
                    "kind": "missing",
                    "path": path,
                    "message": _("recorded in {record}").format(record=run),
                }
            )
        for path in sorted(set(self.manifest) - set(recorded)):
            problems.append(
                {"kind": "extra", "path": path, "message": _("not in {record}").format(record=run)}
            )
        for path in sorted(
            p for p in set(recorded) & set(self.manifest) if recorded[p] != self.manifest[p]
        ):
            problems.append(
                {
                    "kind": "changed",
                    "path": path,
                    "message": _("checksum not the one in {record}").format(record=run),
                }
            )
        problems.extend(self._record_problems(want, run))
        return problems

    def _record_problems(self, want: ArchiveRecord, run: str) -> list[dict[str, Any]]:
        if self.record is None:
            return [{"kind": "archive-json", "message": self.record_error}]
        if self.record != want:
            message = _("{file} is not the one in {record}").format(file=ARCHIVE_JSON, record=run)
            return [{"kind": "archive-json", "message": message}]
        return []
