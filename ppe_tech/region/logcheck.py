"""The handed-over PAK log, checked without the point's store.

``pak/log-SIZE.jsonl`` (see ``handover``) holds every entry's canonical bytes and hash,
so the region recomputes the chain from the genesis hash of the log id: entry n is good
when sha256(hash of n-1 || body n) equals its hash. The newest checkpoint must be signed
by a certificate the point handed over (or the region trusts) and name exactly the
chain's hash at its size; each report's checkpoint must be consistent with the same chain
(same log, and the chain's hash at its size is the one it carries). The export is read
line by line, so memory does not grow with the log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ppe_tech.i18n import _


@dataclass
class LogCheck:
    entries: int = 0
    checkpoint_size: int | None = None
    problems: list[str] = field(default_factory=list)
    reports_consistent: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def cell(self) -> str:
        if self.problems:
            return _("FAILED")
        return _("{n} entries, checkpoint {size} signed").format(
            n=self.entries, size=self.checkpoint_size
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "checkpoint_size": self.checkpoint_size,
            "reports_consistent": self.reports_consistent,
            "problems": self.problems,
        }


def lines_of(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Lines of a byte stream given in chunks (without the line ends)."""
    rest = b""
    for chunk in chunks:
        rest += chunk
        *lines, rest = rest.split(b"\n")
        yield from lines
    if rest:
        yield rest


def chain_hashes(
    lines: Iterator[bytes], point: str, wanted: set[int], check: LogCheck
) -> tuple[str, dict[int, str]]:
    """Recompute the chain; return (log id, {size: hash hex}) for the ``wanted`` sizes."""
    from ppe_tech.pak.journal import genesis_hash

    header = json.loads(next(lines, b"{}") or b"{}")
    log_id = str(header.get("log_id", ""))
    if header.get("point") != point:
        check.problems.append(f"log export is of point {header.get('point')!r}, not {point}")
    previous, hashes = genesis_hash(log_id), {0: genesis_hash(log_id).hex()}
    for expected, line in enumerate(lines, 1):
        entry = json.loads(line)
        digest = hashlib.sha256(previous + entry["body"].encode()).digest()
        if entry.get("seq") != expected or digest.hex() != entry.get("hash"):
            check.problems.append(f"log chain broken at entry {expected}")
            break
        previous = digest
        check.entries = expected
        if expected in wanted:
            hashes[expected] = digest.hex()
    return log_id, hashes


def signed_by(cp: Any, certificates: list[Any]) -> bool:
    from ppe_tech.pak.checkpoint import check_signature

    return any(check_signature(cp, cert)[0] for cert in certificates)


def check_log(
    lines: Iterator[bytes],
    checkpoint_text: str,
    *,
    point: str,
    report_checkpoints: list[tuple[str, str]],
    certificates: list[Any],
) -> LogCheck:
    """The chain, the newest checkpoint and every report's checkpoint against each other."""
    from ppe_tech.errors import VerificationFailed
    from ppe_tech.pak.checkpoint import parse_checkpoint

    check = LogCheck()
    try:
        cp = parse_checkpoint(checkpoint_text, _("handed-over checkpoint"))
        carried = [(name, parse_checkpoint(text, name)) for name, text in report_checkpoints]
    except VerificationFailed as exc:
        check.problems.append(exc.message)
        return check
    check.checkpoint_size = cp.size
    log_id, hashes = chain_hashes(lines, point, {cp.size, *(c.size for _, c in carried)}, check)
    if not signed_by(cp, certificates):
        check.problems.append("the log checkpoint is not signed by the point's certificate")
    if cp.log_id != log_id or hashes.get(cp.size) != cp.head_hash:
        check.problems.append(f"the checkpoint (size {cp.size}) does not match the log export")
    for name, other in carried:
        if other.log_id != log_id or hashes.get(other.size) != other.head_hash:
            check.problems.append(f"{name}: its checkpoint (size {other.size}) is not in this log")
        elif other.size > cp.size:
            check.problems.append(f"{name}: its checkpoint is newer than the handed-over one")
        elif not signed_by(other, certificates):
            check.problems.append(
                f"{name}: its checkpoint is not signed by the point's certificate"
            )
        else:
            check.reports_consistent += 1
    return check
