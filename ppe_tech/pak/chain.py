"""Verify the PAK log: recompute the hash chain, then compare it with signed checkpoints.

The chain alone finds edits, deletions, insertions and reordering (any entry
whose recomputed hash differs, or a gap in the numbers) and names the first bad
entry. It cannot see the tail cut off, or the whole chain recomputed after an
edit: only a signed checkpoint taken before can (its size and head hash no
longer match). ``verify_log`` checks every checkpoint given plus the ones in the
store; keep copies outside the store (files, signed PDF reports) for the case
where someone rewrote the store's checkpoints too.

Speed: the store keeps each entry's canonical bytes (``body``; its columns are
derived from them), so verifying is fetching (seq, body, hash) and hashing in
chunks: entry n is good when sha256(stored hash of n-1 || body n) equals its
stored hash, so each chunk of rows is checked at once with C-level ``map`` (one
entry at a time only to locate a bad one). ``verify_log`` also checks that the
table is still the one whose columns are generated from ``body``
(``schema.ENTRIES_DDL``).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ppe_tech.errors import PpeError, StorageError, VerificationFailed
from ppe_tech.i18n import _, ngettext
from ppe_tech.keys import load_signing_key, site_certificate
from ppe_tech.pak import journal, results
from ppe_tech.pak.checkpoint import (
    Checkpoint,
    CheckpointCheck,
    check_signature,
    format_body,
    key_name,
    origin_for,
    parse_checkpoint,
    sign_body,
    store_checkpoint,
)
from ppe_tech.pak.schema import ENTRIES_DDL
from ppe_tech.store import store_error, transaction

if TYPE_CHECKING:
    from ppe_tech.site import Site


@dataclass(kw_only=True)
class ChainScan:
    ok: bool
    size: int  # entries verified (all of them when ok)
    rows: int  # entries in the table
    head_hash: str  # hex hash of entry #size (genesis for an empty log)
    first_bad: int | None = None
    message: str = ""
    hashes_at: dict[int, bytes] = field(default_factory=dict)


@dataclass(kw_only=True)
class VerifyResult:
    ok: bool
    message: str
    log_id: str
    size: int
    head_hash: str
    first_bad: int | None
    checkpoint_checks: list[CheckpointCheck]
    seconds: float
    problems: list[str] = field(default_factory=list)
    bad_range: tuple[int, int] | None = None  # first bad entry is in [low, high]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "message": self.message,
            "log_id": self.log_id,
            "size": self.size,
            "head_hash": self.head_hash,
            "first_bad_entry": self.first_bad,
            "first_bad_range": list(self.bad_range) if self.bad_range else None,
            "problems": self.problems,
            "checkpoints": [c.to_json() for c in self.checkpoint_checks],
            "seconds": round(self.seconds, 3),
        }


_SELECT_FROM = "SELECT seq, CAST(body AS BLOB), hash FROM pak_entries WHERE seq >= ? ORDER BY seq"
CHUNK = 5_000
_digest = type(hashlib.sha256()).digest


def _check_rows(rows, expected: int, previous: bytes) -> tuple[int | None, int, bytes]:
    """Check a chunk one entry at a time: (first bad seq or None, next expected, last hash)."""
    sha256 = hashlib.sha256
    for seq, body, stored in rows:
        if seq != expected:
            return expected, expected, previous
        try:
            digest = sha256(previous + body).digest()
        except TypeError:  # a NULL body or hash put in by hand
            digest = None
        if digest is None or digest != stored:
            return seq, expected, previous
        previous = digest
        expected += 1
    return None, expected, previous


def _check_from(conn, first: int, previous: bytes, want) -> tuple[int | None, int, bytes, dict]:
    """Verify the entries from ``first`` on, given the hash before it.

    Returns (first bad or None, number of the last good entry, its hash, hashes wanted). One
    SELECT reads one snapshot, so entries appended meanwhile are either all in or all out.
    """
    hashes_at: dict[int, bytes] = {}
    expected, bad = first, None
    sha256, add = hashlib.sha256, bytes.__add__
    cursor = conn.execute(_SELECT_FROM, (first,))
    for rows in iter(lambda: cursor.fetchmany(CHUNK), []):
        seqs, bodies, stored = zip(*rows, strict=True)
        n = len(seqs)
        fast = seqs[0] == expected and seqs[-1] == expected + n - 1  # seq is unique: no gap
        if fast:
            try:  # every entry at once: hash(previous stored hash || body) == stored
                digests = list(
                    map(_digest, map(sha256, map(add, (previous, *stored[:-1]), bodies)))
                )
                fast = digests == list(stored)
            except TypeError:  # a hash or body that is not bytes
                fast = False
        if not fast:
            bad, expected, previous = _check_rows(rows, expected, previous)
            if bad is not None:
                break
        else:
            expected += n
            previous = stored[-1]
        for size in want:
            if seqs[0] <= size <= seqs[-1]:
                hashes_at[size] = stored[size - seqs[0]]
    return bad, expected - 1, previous, hashes_at


def _normal(sql: str) -> str:
    return " ".join(sql.split()).rstrip(";")


def table_intact(conn: sqlite3.Connection) -> bool:
    """Is pak_entries still the table of schema.ENTRIES_DDL (columns generated from body)?"""
    row = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'pak_entries'"
    ).fetchone()
    return row is not None and _normal(row[0]) == _normal(ENTRIES_DDL)


def scan_chain(
    conn: sqlite3.Connection,
    *,
    start: tuple[int, bytes] | None = None,
    want: set[int] | frozenset[int] = frozenset(),
) -> ChainScan:
    """Recompute the chain (from entry #1, or after ``start`` = (seq, its hash)).

    ``want``: sizes whose head hash to remember in ``hashes_at`` (for checkpoints).
    """
    try:
        if start is None:
            first, previous = 1, journal.genesis_hash(results.log_id(conn))
        else:
            first, previous = start[0] + 1, start[1]
        hashes_at: dict[int, bytes] = {}
        if first - 1 in want:
            hashes_at[first - 1] = previous
        bad, size, previous, found = _check_from(conn, first, previous, want)
        hashes_at.update(found)
        # an intact log holds entries 1..size; count them only when it is not
        rows = (
            size if bad is None else conn.execute("SELECT COUNT(*) FROM pak_entries").fetchone()[0]
        )
    except sqlite3.DatabaseError as exc:
        raise store_error(exc) from None
    message = _diagnose(conn, bad, previous) if bad is not None else ""
    return ChainScan(
        ok=bad is None,
        size=size,
        rows=rows,
        head_hash=previous.hex(),
        first_bad=bad,
        message=message,
        hashes_at=hashes_at,
    )


def _diagnose(conn: sqlite3.Connection, bad: int, previous: bytes) -> str:
    """One line naming the first bad entry and the likely kind of tampering."""
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    row = cursor.execute(
        "SELECT * FROM pak_entries WHERE seq >= ? ORDER BY seq LIMIT 1", (bad,)
    ).fetchone()
    if row is None:
        return _("entry #{n} is missing").format(n=bad)
    if row["seq"] != bad:
        return _(
            "entry #{n} is missing: the log jumps from #{before} to #{after} (entries were deleted)"
        ).format(n=bad, before=bad - 1, after=row["seq"])
    raw = conn.execute("SELECT CAST(body AS BLOB) FROM pak_entries WHERE seq = ?", (bad,))
    try:
        bytes(raw.fetchone()[0] or b"").decode("utf-8")
    except UnicodeDecodeError:
        return _(
            "entry #{n} is not UTF-8 text: its bytes were changed in the store by hand"
        ).format(n=bad)
    stored = bytes(row["hash"]) if isinstance(row["hash"], bytes) else b""
    nxt = cursor.execute("SELECT * FROM pak_entries WHERE seq = ?", (bad + 1,)).fetchone()
    if nxt is not None and stored:
        try:
            links = hashlib.sha256(stored + nxt["body"].encode()).digest() == bytes(nxt["hash"])
        except (TypeError, AttributeError, ValueError):
            links = False
        if links:
            return _(
                "entry #{n} was altered: its content no longer matches its hash "
                "(a field was edited)"
            ).format(n=bad)
    return _(
        "entry #{n} does not follow from entry #{before}: it was edited, inserted, "
        "moved or forged (or the entry before it was replaced)"
    ).format(n=bad, before=bad - 1)


def _rebuilt() -> str:
    return _(
        "the pak_entries table was rebuilt: its columns are no longer derived from the hashed "
        "entries (a column may show what the hash does not cover)"
    )


@dataclass
class _Against:
    """What checkpoints are compared with: the scan, this log's id, the site certificate."""

    scan: ChainScan
    log_id: str
    certificate: Any = None
    cert_error: str = ""


def _site_certificate(site: Site | None) -> tuple[Any, str]:
    """(certificate, "") or (None, why there is none)."""
    if site is None:
        return None, _("no site to take the certificate from")
    try:
        return site_certificate(site), ""
    except PpeError as exc:
        return None, exc.message


def _compare(
    cp: Checkpoint, source: str, against: _Against, *, explicit: bool, matched: int
) -> CheckpointCheck:
    """One parsed checkpoint against the scanned log: signature, log id, size, head hash.

    ``explicit``: given by the user, so its signature must verify; ``matched``: the size of
    the largest checkpoint that matched so far (where a rewrite can start).
    """
    scan = against.scan
    when = cp.created_at.strftime("%Y-%m-%d %H:%M:%SZ")
    entries = ngettext("{n} entry", "{n} entries", cp.size).format(n=cp.size)
    label = f"{source} ({entries}, {when})"
    if against.certificate is not None:
        signature_ok, signer = check_signature(cp, against.certificate)
    else:
        signature_ok, signer = None, against.cert_error

    def check(ok: bool, message: str, *, consistent: bool | None) -> CheckpointCheck:
        return CheckpointCheck(
            ok=ok,
            message=f"{label}: {message}",
            checkpoint=cp,
            source=source,
            signature_ok=signature_ok,
            consistent=consistent,
        )

    if cp.log_id != against.log_id:
        why = _("it is a checkpoint of another log ({other}, this log is {this})").format(
            other=cp.log_id, this=against.log_id
        )
        return check(False, why, consistent=False)
    if signature_ok is False:
        return check(False, _("bad signature: {why}").format(why=signer), consistent=None)
    if cp.size > scan.rows:
        return check(
            False,
            _(
                "the log has {rows} entries but the checkpoint covers {size}: "
                "entries #{first}..#{size} were removed (truncated)"
            ).format(rows=scan.rows, size=cp.size, first=scan.rows + 1),
            consistent=False,
        )
    if cp.size > scan.size:
        return check(
            False,
            _("not checked, the chain is broken at entry #{n}").format(n=scan.first_bad),
            consistent=None,
        )
    if scan.hashes_at.get(cp.size, b"").hex() != cp.head_hash:
        return check(
            False,
            _(
                "entries #1..#{size} no longer match this signed checkpoint: the log was "
                "rewritten (first bad entry between #{low} and #{size})"
            ).format(size=cp.size, low=matched + 1),
            consistent=False,
        )
    if signature_ok is None and explicit:
        return check(
            False,
            _("matches the log, but its signature cannot be checked: {why}").format(why=signer),
            consistent=True,
        )
    if signature_ok:
        return check(True, _("matches the log"), consistent=True)
    note = _("matches the log (signature not checked: {why})").format(why=signer)
    return check(True, note, consistent=True)


def _check_all(parsed: list[tuple[str, Checkpoint]], against: _Against, explicit: set[str]):
    """Compare checkpoints smallest first: (checks, range where the first bad entry is)."""
    checks, matched, failed = [], 0, None
    for source, cp in sorted(parsed, key=lambda item: item[1].size):
        check = _compare(cp, source, against, explicit=source in explicit, matched=matched)
        if check.ok:
            matched = max(matched, cp.size)
        elif check.consistent is False and failed is None and cp.log_id == against.log_id:
            rows = against.scan.rows  # sorted by size: the first failure is the tightest
            failed = (rows + 1, rows + 1) if cp.size > rows else (matched + 1, cp.size)
        checks.append(check)
    return checks, failed


def _parse_all(sources: list[tuple[str, str]]):
    """(parsed checkpoints, checks of the ones that do not parse)."""
    parsed: list[tuple[str, Checkpoint]] = []
    unreadable: list[CheckpointCheck] = []
    for source, text in sources:
        try:
            parsed.append((source, parse_checkpoint(text, source)))
        except VerificationFailed as exc:
            unreadable.append(CheckpointCheck(ok=False, message=exc.message, source=source))
    return parsed, unreadable


def verify_log(
    site: Site | None,
    conn: sqlite3.Connection,
    *,
    checkpoints: list[tuple[str, str]] = (),  # type: ignore[assignment]
    use_stored: bool = True,
) -> VerifyResult:
    """Verify the chain and every checkpoint (given as (source, text), plus stored ones).

    ``ok`` is False when the chain is broken, or any checkpoint has a bad
    signature or does not match the log (truncated or rewritten). ``first_bad``
    names the first bad entry when it can be known; a rewrite found only by
    checkpoints is placed between the last matching and first failing checkpoint.
    """
    began = time.perf_counter()
    lid = results.log_id(conn)
    sources = list(checkpoints)
    explicit = {source for source, _ in sources}  # given by the user: signature must verify
    if use_stored:
        sources += [
            (_("stored checkpoint {n}").format(n=cid), text)
            for cid, text in results.checkpoint_texts(conn)
        ]
    parsed, checks = _parse_all(sources)
    scan = scan_chain(conn, want={cp.size for _, cp in parsed})
    problems = [scan.message] if not scan.ok else []
    if not table_intact(conn):
        problems.insert(0, _rebuilt())
    certificate, cert_error = _site_certificate(site) if parsed else (None, "")
    compared, failed = _check_all(parsed, _Against(scan, lid, certificate, cert_error), explicit)
    checks += compared
    problems += [c.message for c in checks if not c.ok]
    first_bad, bad_range = scan.first_bad, None
    if first_bad is not None:
        bad_range = (first_bad, first_bad)
    elif failed is not None:
        bad_range = failed
        first_bad = failed[0] if failed[0] == failed[1] else None
    if problems:
        message = problems[0]
    else:
        count = len(checks)
        entries = ngettext("{n} entry", "{n} entries", scan.size).format(n=scan.size)
        extra = ngettext(", {n} checkpoint matches", ", {n} checkpoints match", count)
        message = _("OK: {entries}, chain intact{checkpoints}; head {head}").format(
            entries=entries,
            checkpoints=extra.format(n=count) if count else "",
            head=scan.head_hash[:16],
        )
    return VerifyResult(
        ok=not problems,
        message=message,
        log_id=lid,
        size=scan.size,
        head_hash=scan.head_hash,
        first_bad=first_bad,
        checkpoint_checks=checks,
        seconds=time.perf_counter() - began,
        problems=problems,
        bad_range=bad_range,
    )


def verify_checkpoint(site: Site, conn: sqlite3.Connection, text: str) -> CheckpointCheck:
    """Check a checkpoint: signed by the site certificate AND consistent with the log now.

    Consistent means: same log id, the log still has at least ``size`` entries,
    the chain recomputed from entry #1 is intact up to ``size`` and its hash there
    equals the checkpoint's head. ``.ok`` and ``.message`` say the outcome in one line.
    """
    result = verify_log(site, conn, checkpoints=[(_("checkpoint"), text)], use_stored=False)
    check = result.checkpoint_checks[0] if result.checkpoint_checks else None
    if check is None:
        return CheckpointCheck(ok=False, message=result.message)
    broken_inside = result.first_bad is not None and check.checkpoint is not None
    if check.ok and not result.ok and broken_inside and result.first_bad <= check.checkpoint.size:
        return CheckpointCheck(
            ok=False,
            message=result.message,
            checkpoint=check.checkpoint,
            source=check.source,
            signature_ok=check.signature_ok,
            consistent=False,
        )
    return check


def create_checkpoint(
    site: Site,
    conn: sqlite3.Connection,
    *,
    passphrase: bytes | None = None,
    now: datetime | None = None,
) -> Checkpoint:
    """Verify the chain, then sign (log id, size, head hash, time) and store the checkpoint.

    Refuses (VerificationFailed, exit 1) to sign a log whose chain is broken, so a
    checkpoint never blesses a tampered log. KeysError (exit 5) without a usable key.
    The checkpoint is appended to ``pak_checkpoints``; ``Checkpoint.text`` is the file form.
    """
    private_key, _cert, _chain = load_signing_key(site, passphrase)  # None: $signing.passphrase_env
    verified = scan_chain(conn)
    if not verified.ok:
        raise VerificationFailed(
            _("refusing to sign a checkpoint: {why}").format(why=verified.message)
        )
    try:
        with transaction(conn):
            # entries appended since the scan: verify just those, inside the write lock
            tail = scan_chain(conn, start=(verified.size, bytes.fromhex(verified.head_hash)))
            if not tail.ok:
                raise VerificationFailed(
                    _("refusing to sign a checkpoint: {why}").format(why=tail.message)
                )
            created = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
            origin = origin_for(site, results.log_id(conn))
            body = format_body(origin, tail.size, bytes.fromhex(tail.head_hash), created)
            checkpoint = parse_checkpoint(sign_body(private_key, body, key_name(site)))
            store_checkpoint(conn, checkpoint)
    except sqlite3.Error as exc:
        raise StorageError(_("cannot store the checkpoint: {why}").format(why=exc)) from None
    return checkpoint
