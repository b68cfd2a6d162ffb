"""The stick a station check runs from, and the per-exam Ed25519 key it signs results with.

``enroll`` (``ppe-tech station enroll``, on the technician's machine) makes a fresh Ed25519
key pair for one exam of this point. The public half stays in the site folder
(``keys/stations/<key_id>.json``); the private half goes onto the stick
(``<stick>/ppe-station/keys/station-signing.json``, mode 0600) with a reduced copy of the site
(``ppe.yaml`` with the point, staff, exams, rooms, stations and checks, no camera passwords;
the site's own checklists), so ``ppe-tech --site <stick>/ppe-station station run`` runs on a
station with nothing else. Results land in ``<stick>/results``.

What a signature proves: the result file was written by someone holding the stick enrolled
for this point and this exam, and not changed since. What it does not: which machine wrote
it (a station names itself), that the probes were honest, or the time (the station's clock).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ppe_tech.errors import KeysError, StorageError
from ppe_tech.fsutil import atomic_write_bytes, atomic_write_text
from ppe_tech.i18n import _
from ppe_tech.site import SITE_FILE, Exam, Site
from ppe_tech.timeutil import iso, utc_now

STICK_SITE = "ppe-station"  # the reduced site folder on the stick
STICK_RESULTS = "results"  # where station runs write their files
SIGNING_FILE = "station-signing.json"  # in <stick site>/keys/
PUBLIC_FOLDER = "keys/stations"  # in the technician's site folder
STICK_KEYS = ("point", "staff", "exams", "rooms", "stations", "checks")  # of ppe.yaml


@dataclass(frozen=True)
class StationKey:
    """One enrolment: the public key the technician's machine checks results with."""

    key_id: str
    point_code: str
    exam_id: str
    public_key: bytes  # raw 32 bytes
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "point_code": self.point_code,
            "exam_id": self.exam_id,
            "public_key": base64.b64encode(self.public_key).decode(),
            "created_at": self.created_at,
        }

    def verify(self, signature: bytes, data: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature

        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, data)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    """The private half, on the stick: what a station signs its result file with."""

    key: StationKey
    private_key: Ed25519PrivateKey

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)


@dataclass(frozen=True)
class Enrolment:
    key: StationKey
    stick_site: Path  # give this to --site on the station
    results: Path  # and this to --out
    public_file: Path

    def to_json(self) -> dict[str, Any]:
        return {
            **self.key.to_json(),
            "stick_site": str(self.stick_site),
            "results": str(self.results),
            "public_file": str(self.public_file),
        }


def _raw_public(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def _stick_config(site: Site) -> str:
    """The reduced ppe.yaml for the stick, from the file as written (``${VAR}`` kept)."""
    data = {key: site.doc.data[key] for key in STICK_KEYS if key in site.doc.data}
    header = f"# made by ppe-tech station enroll for point {site.config.point.code}; do not edit\n"
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _copy_site_checklists(site: Site, stick_site: Path) -> None:
    """The site's own checklists (overrides of the shipped ones) go onto the stick too."""
    own = site.folder / "checklists"
    for path in sorted(own.glob("*.yaml")) if own.is_dir() else []:
        atomic_write_bytes(stick_site / "checklists" / path.name, path.read_bytes())


def enroll(site: Site, exam: Exam, stick: Path, *, now: datetime | None = None) -> Enrolment:
    """Prepare ``stick`` for the station checks of ``exam``: a new key, the reduced site."""
    private_key = Ed25519PrivateKey.generate()
    public = _raw_public(private_key)
    key = StationKey(
        key_id=hashlib.sha256(public).hexdigest()[:16],
        point_code=site.config.point.code,
        exam_id=exam.id,
        public_key=public,
        created_at=iso(now or utc_now()),
    )
    stick_site = Path(stick) / STICK_SITE
    results = Path(stick) / STICK_RESULTS
    public_file = site.file_in(PUBLIC_FOLDER, f"{key.key_id}.json")
    private_raw = private_key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    secret = {**key.to_json(), "private_key": base64.b64encode(private_raw).decode()}
    atomic_write_text(stick_site / SITE_FILE, _stick_config(site))
    _copy_site_checklists(site, stick_site)
    console_cert = site.folder / "keys" / "console.cert.pem"  # station run --send trusts only it
    if console_cert.is_file():
        atomic_write_bytes(stick_site / "keys" / console_cert.name, console_cert.read_bytes())
    atomic_write_text(stick_site / "keys" / SIGNING_FILE, json.dumps(secret, indent=1), mode=0o600)
    atomic_write_text(public_file, json.dumps(key.to_json(), indent=1) + "\n")
    try:
        results.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            _("cannot make {folder}: {reason}").format(folder=results, reason=exc.strerror)
        ) from None
    return Enrolment(key=key, stick_site=stick_site, results=results, public_file=public_file)


def _key_from_json(data: dict[str, Any]) -> StationKey:
    return StationKey(
        key_id=str(data["key_id"]),
        point_code=str(data["point_code"]),
        exam_id=str(data["exam_id"]),
        public_key=base64.b64decode(data["public_key"], validate=True),
        created_at=str(data["created_at"]),
    )


def load_signing_key(site: Site, path: Path | None = None) -> SigningKey:
    """The stick's private key (``keys/station-signing.json`` of the stick's site folder)."""
    path = path or site.folder / "keys" / SIGNING_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        key = _key_from_json(data)
        private_key = Ed25519PrivateKey.from_private_bytes(
            base64.b64decode(data["private_key"], validate=True)
        )
    except FileNotFoundError:
        raise KeysError(
            _(
                "no station signing key {file}: prepare the stick with "
                "'ppe-tech station enroll STICK' on the technician's machine"
            ).format(file=path)
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeysError(
            _("{file}: not a station signing key ({why})").format(file=path, why=exc)
        ) from None
    if _raw_public(private_key) != key.public_key:
        raise KeysError(
            _("{file}: the private key does not match its public key").format(file=path)
        )
    return SigningKey(key=key, private_key=private_key)


def known_keys(site: Site) -> dict[str, StationKey]:
    """Every key enrolled on this machine, by key id (unreadable files are skipped)."""
    keys = {}
    folder = site.folder / PUBLIC_FOLDER
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            key = _key_from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        keys[key.key_id] = key
    return keys
