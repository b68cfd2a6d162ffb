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
from typing import TYPE_CHECKING, Any

from ppe_tech.pak import journal
from ppe_tech.store import store_error

if TYPE_CHECKING:
    from ppe_tech.pak.checkpoint import CheckpointCheck
    from ppe_tech.site import Site


@dataclass
class ChainScan:
    ok: bool
    size: int  # entries verified (all of them when ok)
    rows: int  # entries in the table
    head_hash: str  # hex hash of entry #size (genesis for an empty log)
    first_bad: int | None = None
    message: str = ""
    hashes_at: dict[int, bytes] = field(default_factory=dict)


@dataclass
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "message": self.message,
            "log_id": self.log_id,
            "size": self.size,
            "head_hash": self.head_hash,
            "first_bad_entry": self.first_bad,
            "first_bad_range": list(self.bad_range) if self.bad_range else None,
            "problems": self.problems,
            "checkpoints": [c.to_dict() for c in self.checkpoint_checks],
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
            body.decode("utf-8")  # ppe-tech writes UTF-8 only: other bytes were put in by hand
        except (TypeError, UnicodeDecodeError):  # a NULL body or hash, or bytes not UTF-8
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
                fast = digests == list(stored) and bool(list(map(bytes.decode, bodies)))
            except (TypeError, UnicodeDecodeError):  # a hash or body not bytes, or not UTF-8
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
    from ppe_tech.pak.schema import ENTRIES_DDL

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
            first, previous = 1, journal.genesis_hash(journal.log_id(conn))
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
    return ChainScan(bad is None, size, rows, previous.hex(), bad, message, hashes_at)


def _diagnose(conn: sqlite3.Connection, bad: int, previous: bytes) -> str:
    """One line naming the first bad entry and the likely kind of tampering."""
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    row = cursor.execute(
        "SELECT * FROM pak_entries WHERE seq >= ? ORDER BY seq LIMIT 1", (bad,)
    ).fetchone()
    if row is None:
        return f"entry #{bad} is missing"
    if row["seq"] != bad:
        return (
            f"entry #{bad} is missing: the log jumps from #{bad - 1} to #{row['seq']} "
            "(entries were deleted)"
        )
    raw = conn.execute("SELECT CAST(body AS BLOB) FROM pak_entries WHERE seq = ?", (bad,))
    try:
        bytes(raw.fetchone()[0] or b"").decode("utf-8")
    except UnicodeDecodeError:
        return f"entry #{bad} is not UTF-8 text: its bytes were changed in the store by hand"
    stored = bytes(row["hash"]) if isinstance(row["hash"], bytes) else b""
    nxt = cursor.execute("SELECT * FROM pak_entries WHERE seq = ?", (bad + 1,)).fetchone()
    if nxt is not None and stored:
        try:
            links = hashlib.sha256(stored + nxt["body"].encode()).digest() == bytes(nxt["hash"])
        except (TypeError, AttributeError, ValueError):
            links = False
        if links:
            return (
                f"entry #{bad} was altered: its content no longer matches its hash "
                "(a field was edited)"
            )
    return (
        f"entry #{bad} does not follow from entry #{bad - 1}: it was edited, inserted, "
        "moved or forged (or the entry before it was replaced)"
    )


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
    from ppe_tech.errors import PpeError, VerificationFailed
    from ppe_tech.pak.checkpoint import CheckpointCheck, check_signature, parse_checkpoint

    began = time.perf_counter()
    lid = journal.log_id(conn)
    sources = list(checkpoints)
    explicit = {source for source, _ in sources}  # given by the user: signature must verify
    if use_stored:
        from ppe_tech.pak.checkpoint import stored_checkpoints

        sources += [(f"stored checkpoint {cid}", text) for cid, text in stored_checkpoints(conn)]
    parsed: list[tuple[str, Any]] = []
    checks: list[CheckpointCheck] = []
    for source, text in sources:
        try:
            parsed.append((source, parse_checkpoint(text, source)))
        except VerificationFailed as exc:
            checks.append(CheckpointCheck(False, exc.message, None, source, False, None))
    scan = scan_chain(conn, want={cp.size for _, cp in parsed})
    problems = [scan.message] if not scan.ok else []
    if not table_intact(conn):
        problems.insert(0, "the pak_entries table was rebuilt: its columns are no longer derived "
                           "from the hashed entries (a column may show what the hash does not cover)")  # fmt: skip

    certificate, cert_error = None, ""
    if parsed and site is not None:
        try:
            from ppe_tech.keys import site_certificate

            certificate = site_certificate(site)
        except PpeError as exc:
            cert_error = exc.message
    elif parsed:
        cert_error = "no site to take the certificate from"

    matched, failed = 0, None
    for source, cp in sorted(parsed, key=lambda item: item[1].size):
        when = cp.created_at.strftime("%Y-%m-%d %H:%M:%SZ")
        label = f"{source} ({cp.size} entries, {when})"
        if certificate is not None:
            signature_ok, signer = check_signature(cp, certificate)
        else:
            signature_ok, signer = None, cert_error
        if cp.log_id != lid:
            checks.append(CheckpointCheck(False, f"{label}: it is a checkpoint of another log "
                                          f"({cp.log_id}, this log is {lid})", cp, source,
                                          signature_ok, False))  # fmt: skip
            continue
        if signature_ok is False:
            checks.append(CheckpointCheck(False, f"{label}: bad signature: {signer}", cp, source,
                                          False, None))  # fmt: skip
            continue
        if cp.size > scan.rows:
            message = (
                f"{label}: the log has {scan.rows} entries but the checkpoint covers {cp.size}: "
                f"entries #{scan.rows + 1}..#{cp.size} were removed (truncated)"
            )
            checks.append(CheckpointCheck(False, message, cp, source, signature_ok, False))
            if failed is None:
                failed = (scan.rows + 1, scan.rows + 1)
            continue
        if cp.size > scan.size:
            message = f"{label}: not checked, the chain is broken at entry #{scan.first_bad}"
            checks.append(CheckpointCheck(False, message, cp, source, signature_ok, None))
            continue
        if scan.hashes_at.get(cp.size, b"").hex() != cp.head_hash:
            low = matched + 1
            message = (
                f"{label}: entries #1..#{cp.size} no longer match this signed checkpoint: the log "
                f"was rewritten (first bad entry between #{low} and #{cp.size})"
            )
            checks.append(CheckpointCheck(False, message, cp, source, signature_ok, False))
            if failed is None:  # checkpoints are sorted by size: the first failure is the tightest
                failed = (low, cp.size)
            continue
        if signature_ok is None and source in explicit:
            message = f"{label}: matches the log, but its signature cannot be checked: {signer}"
            checks.append(CheckpointCheck(False, message, cp, source, None, True))
            continue
        matched = max(matched, cp.size)
        note = "" if signature_ok else f" (signature not checked: {signer})"
        checks.append(CheckpointCheck(True, f"{label}: matches the log{note}", cp, source,
                                      signature_ok, True))  # fmt: skip

    bad_checks = [c for c in checks if not c.ok]
    problems += [c.message for c in bad_checks]
    first_bad, bad_range = scan.first_bad, None
    if first_bad is None and failed is not None:
        bad_range = failed
        first_bad = failed[0] if failed[0] == failed[1] else None
    elif first_bad is not None:
        bad_range = (first_bad, first_bad)
    ok = not problems
    if ok:
        count = len(checks)
        extra = f", {count} checkpoint{'s' if count != 1 else ''} match" if count else ""
        message = f"OK: {scan.size} entries, chain intact{extra}; head {scan.head_hash[:16]}"
    else:
        message = problems[0]
    return VerifyResult(
        ok, message, lid, scan.size, scan.head_hash, first_bad, checks,
        time.perf_counter() - began, problems, bad_range,
    )  # fmt: skip
