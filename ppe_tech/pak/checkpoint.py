"""Signed checkpoints of the PAK log, in the C2SP signed-note / tlog-checkpoint style.

A checkpoint is a short UTF-8 text::

    ppe-tech.pak/7701/5f0c6a1e2b3c4d5e6f708192a3b4c5d6
    1234
    q0QeS1pNc2l4dHlUd29CeXRlc09mU2hhMjU2SGFzaGVkSGVyZQ==
    time 2026-05-28T07:15:02Z

    \u2014 ppe-tech-site-7701 AbCdEf...base64...

Body (each line ends with a newline): the origin ``ppe-tech.pak/<point
code>/<log id>``, the number of entries covered (decimal), the base64 of the
32-byte hash of entry #size (the chain head; for an empty log the genesis
hash), and one extension line ``time <UTC ISO 8601>``. Then an empty line and
one or more signature lines: an em dash (U+2014), a space, the key name, a
space, and base64 of (4-byte key id || signature). The key id is the first 4
bytes of SHA-256 of the signer's public key (DER SubjectPublicKeyInfo); the
signature is over the body bytes exactly (through the newline after the last
body line): RSA PKCS#1 v1.5 with SHA-256 for RSA keys, ECDSA with SHA-256 for
EC keys, Ed25519 for Ed25519 keys. Unlike a transparency log the head is a hash
chain head, not a Merkle root: consistency is checked by recomputing the chain.

This module is the leaf: the text format, signing, checking one signature, and the
stored checkpoints. Making and verifying a checkpoint against the log needs the chain:
``ppe_tech.pak.chain.create_checkpoint(site, conn) -> Checkpoint`` and
``ppe_tech.pak.chain.verify_checkpoint(site, conn, text) -> CheckpointCheck``. Here:
``parse_checkpoint(text)``, ``sign_body(private_key, body, name)``,
``check_signature(cp, certificate)``, ``latest_checkpoint(conn) -> Checkpoint | None``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from ppe_tech.errors import KeysError, VerificationFailed
from ppe_tech.i18n import _
from ppe_tech.pak import results

if TYPE_CHECKING:
    from ppe_tech.site import Site

DASH = "\u2014"
ORIGIN_PREFIX = "ppe-tech.pak/"
_ORIGIN = re.compile(r"^ppe-tech\.pak/(?P<point>[^/\s]+)/(?P<log>[0-9a-f]{32})$")


@dataclass
class Checkpoint:
    """A parsed checkpoint; ``text`` is exactly what was signed plus its signature lines."""

    text: str
    origin: str
    log_id: str
    size: int
    head_hash: str  # hex
    created_at: datetime  # UTC
    signatures: list[tuple[str, bytes, bytes]] = field(default_factory=list)  # name, key id, sig

    @property
    def body(self) -> bytes:
        return self.text.split("\n\n", 1)[0].encode() + b"\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "log_id": self.log_id,
            "size": self.size,
            "head_hash": self.head_hash,
            "created_at": self.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "signers": [name for name, _, _ in self.signatures],
            "text": self.text,
        }


@dataclass(kw_only=True)
class CheckpointCheck:
    """Outcome of checking one checkpoint: signature and consistency with the log."""

    ok: bool
    message: str
    checkpoint: Checkpoint | None = None
    source: str = ""
    signature_ok: bool | None = None  # None: could not be checked (no certificate)
    consistent: bool | None = None

    def to_json(self) -> dict[str, Any]:
        cp = self.checkpoint
        return {
            "source": self.source,
            "ok": self.ok,
            "message": self.message,
            "signature_ok": self.signature_ok,
            "consistent": self.consistent,
            "size": cp.size if cp else None,
            "head_hash": cp.head_hash if cp else None,
            "created_at": cp.created_at.strftime("%Y-%m-%dT%H:%M:%SZ") if cp else None,
        }


def origin_for(site: Site, log_id: str) -> str:
    return f"{ORIGIN_PREFIX}{site.config.point.code}/{log_id}"


def key_name(site: Site) -> str:
    return f"ppe-tech-site-{site.config.point.code}"


def _spki(public_key: Any) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(public_key: Any) -> bytes:
    return hashlib.sha256(_spki(public_key)).digest()[:4]


def sign(private_key: Any, data: bytes) -> bytes:
    """The raw signature of ``data`` with an RSA, EC or Ed25519 key (see the module doc)."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return private_key.sign(data, ec.ECDSA(hashes.SHA256()))
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign(data)
    raise KeysError(
        _("cannot sign checkpoints with a {kind}").format(kind=type(private_key).__name__)
    )


def _verify_signature(public_key: Any, signature: bytes, data: bytes) -> bool:
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def format_body(origin: str, size: int, head: bytes, created_at: datetime) -> str:
    stamp = created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{origin}\n{size}\n{base64.b64encode(head).decode()}\ntime {stamp}\n"


def sign_body(private_key: Any, body: str, name: str) -> str:
    """The checkpoint text: ``body`` and one signature line by ``private_key`` under ``name``."""
    signature = sign(private_key, body.encode())
    blob = base64.b64encode(key_id(private_key.public_key()) + signature).decode()
    return f"{body}\n{DASH} {name} {blob}\n"


def parse_checkpoint(text: str, source: str | None = None) -> Checkpoint:
    """Parse a checkpoint text; VerificationFailed (exit 1) with one line when malformed
    (``source``, in the current language, names it; ``checkpoint`` when None)."""

    def bad(why: str) -> VerificationFailed:
        return VerificationFailed(
            _("{source}: not a PAK checkpoint: {why}").format(
                source=source or _("checkpoint"), why=why
            )
        )

    text = text.replace("\r\n", "\n")
    if "\n\n" not in text:
        raise bad(_("no empty line between the body and the signatures"))
    body, _gap, sig_block = text.partition("\n\n")
    lines = body.split("\n")
    if len(lines) < 4:
        raise bad(_("the body needs origin, size, hash and time lines"))
    origin, size_text, hash_text = lines[0], lines[1], lines[2]
    match = _ORIGIN.match(origin)
    if not match:
        raise bad(
            _("origin line {line!r} is not ppe-tech.pak/<point>/<log id>").format(line=origin[:80])
        )
    if not size_text.isdigit():
        raise bad(_("size line {line!r} is not a number").format(line=size_text[:40]))
    try:
        head = base64.b64decode(hash_text, validate=True)
    except (binascii.Error, ValueError):
        head = b""
    if len(head) != 32:
        raise bad(_("the hash line is not base64 of 32 bytes"))
    created = None
    for line in lines[3:]:
        if line.startswith("time "):
            try:
                created = datetime.fromisoformat(line[5:].replace("Z", "+00:00")).astimezone(UTC)
            except ValueError:
                raise bad(_("bad time line {line!r}").format(line=line[:60])) from None
    if created is None:
        raise bad(_("no time line"))
    signatures = []
    for line in sig_block.strip("\n").split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH:
            raise bad(_("bad signature line {line!r}").format(line=line[:60]))
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except (binascii.Error, ValueError):
            raise bad(_("signature of {name!r} is not base64").format(name=parts[1])) from None
        if len(blob) < 5:
            raise bad(_("signature of {name!r} is too short").format(name=parts[1]))
        signatures.append((parts[1], blob[:4], blob[4:]))
    if not signatures:
        raise bad(_("no signature lines"))
    return Checkpoint(
        text=body + "\n\n" + sig_block.strip("\n") + "\n",
        origin=origin,
        log_id=match.group("log"),
        size=int(size_text),
        head_hash=head.hex(),
        created_at=created,
        signatures=signatures,
    )


def check_signature(cp: Checkpoint, certificate: Any) -> tuple[bool, str]:
    """(True, signer) when a signature line verifies with ``certificate``'s key."""
    public_key = certificate.public_key()
    wanted = key_id(public_key)
    body = cp.body
    names = []
    for name, kid, signature in cp.signatures:
        names.append(name)
        if kid == wanted and _verify_signature(public_key, signature, body):
            return True, name
    if any(kid == wanted for _, kid, _ in cp.signatures):
        return False, _(
            "the signature does not verify with the site certificate (forged or altered)"
        )
    return False, _("not signed by the site's key (signers: {names})").format(
        names=", ".join(names)
    )


def store_checkpoint(conn: sqlite3.Connection, cp: Checkpoint) -> None:
    """Append ``cp`` to the store's checkpoints (inside the caller's transaction)."""
    created = cp.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    results.insert_checkpoint(
        conn, created_at=created, size=cp.size, head_hash=cp.head_hash, text=cp.text
    )


def latest_checkpoint(conn: sqlite3.Connection) -> Checkpoint | None:
    """The most recent stored checkpoint (parsed), or None when none was made."""
    text = results.latest_checkpoint_text(conn)
    return parse_checkpoint(text, _("stored checkpoint")) if text is not None else None
