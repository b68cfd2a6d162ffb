"""The result file of a station run: built and signed on the station, verified on import.

A file is JSON: ``{"payload": {...}, "signature": {"alg": "Ed25519", "key_id", "value"}}``.
The payload is ``StationResult.to_json()`` without the store's own fields, plus
``"format"``; the signature covers its canonical bytes (keys sorted, no spaces, UTF-8), so
any edit of a value breaks it while re-indenting the file does not.

``build_result`` gives the bytes (``station run`` writes them, the console may post them);
``verify_result_file`` is the one check an importer makes, raising ``VerificationFailed``
with the reason; ``import_folder`` imports every file of a stick.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sqlite3
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ppe_tech.errors import StorageError, VerificationFailed
from ppe_tech.fsutil import atomic_write_bytes
from ppe_tech.i18n import _
from ppe_tech.site import Site
from ppe_tech.stations.results import StationResult, save_station_run, stored_run_id
from ppe_tech.stations.signing import SigningKey, StationKey, known_keys

FORMAT = "ppe-tech-station-result/1"
SUFFIX = ".station.json"
STORE_ONLY = ("run_id", "file_sha256", "source", "imported_at", "failed_items")


def canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def build_result(result: StationResult, key: SigningKey) -> bytes:
    """The signed file's bytes for ``result``."""
    payload = {k: v for k, v in result.to_json().items() if k not in STORE_ONLY}
    payload["key_id"] = key.key.key_id
    payload["format"] = FORMAT
    signature = key.sign(canonical(payload))
    document = {
        "payload": payload,
        "signature": {
            "alg": "Ed25519",
            "key_id": key.key.key_id,
            "value": base64.b64encode(signature).decode(),
        },
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode() + b"\n"


def result_file_name(result: StationResult) -> str:
    stamp = result.finished_at.strftime("%Y%m%dT%H%M%SZ")
    return f"{result.point_code}_{result.exam_id}_{result.station_id}_{stamp}{SUFFIX}"


def write_result(folder: Path, result: StationResult, key: SigningKey) -> Path:
    """Write the signed result file into ``folder`` (the stick), atomically; return its path."""
    path = Path(folder) / result_file_name(result)
    atomic_write_bytes(path, build_result(result, key))
    return path


def _refuse(reason: str) -> VerificationFailed:
    return VerificationFailed(reason)


def _parse(data: bytes) -> tuple[dict[str, Any], str, bytes]:
    """(payload, key id, signature) of a file; VerificationFailed when it is not one."""
    try:
        document = json.loads(data.decode("utf-8"))
        payload, signature = document["payload"], document["signature"]
        if payload.get("format") != FORMAT or signature.get("alg") != "Ed25519":
            raise _refuse(f"not a {FORMAT} file")
        value = base64.b64decode(signature["value"], validate=True)
        return payload, str(signature["key_id"]), value
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _refuse("not a station result file (not JSON)") from None
    except (KeyError, TypeError, AttributeError, binascii.Error):
        raise _refuse("not a station result file (payload or signature missing)") from None


def _check_key(
    site: Site, payload: dict[str, Any], key_id: str, keys: dict[str, StationKey]
) -> StationKey:
    point = site.config.point.code
    if payload.get("point_code") != point:
        raise _refuse(f"from another point ({payload.get('point_code')}; this point is {point})")
    key = keys.get(key_id)
    if key is None or key.point_code != point:
        raise _refuse(f"signed with an unknown key {key_id} (not enrolled on this machine)")
    return key


def _check_identity(
    site: Site, payload: dict[str, Any], key: StationKey, exam_id: str | None
) -> None:
    if payload.get("exam_id") != key.exam_id:
        raise _refuse(f"exam {payload.get('exam_id')} but the key was enrolled for {key.exam_id}")
    if exam_id is not None and payload.get("exam_id") != exam_id:
        raise _refuse(f"for another exam ({payload.get('exam_id')}; importing for {exam_id})")
    station_id = payload.get("station_id")
    known = {s.id: s for s in site.config.stations}
    if station_id not in known:
        raise _refuse(f"unknown station {station_id!r} (not in ppe.yaml)")
    station = known[station_id]
    if (payload.get("room"), payload.get("role")) != (station.room, station.role):
        raise _refuse(
            f"station {station_id} says room {payload.get('room')}, role {payload.get('role')};"
            f" ppe.yaml has room {station.room}, role {station.role}"
        )


def verify_result_file(
    site: Site,
    data: bytes,
    *,
    exam_id: str | None = None,
    keys: dict[str, StationKey] | None = None,
) -> StationResult:
    """The verified result in ``data``; VerificationFailed (exit 1) with the reason otherwise.

    Refused: not a result file; from another point; signed with a key not enrolled here;
    edited after it was signed; for another exam than its key's (or than ``exam_id``);
    a station not in ppe.yaml, or in another room or role than ppe.yaml says. ``keys``: the
    enrolled keys (default: read from the site folder; pass them to verify many files).
    """
    payload, key_id, signature = _parse(data)
    key = _check_key(site, payload, key_id, known_keys(site) if keys is None else keys)
    if not key.verify(signature, canonical(payload)):
        raise _refuse("signature does not match: the file was changed after the station wrote it")
    _check_identity(site, payload, key, exam_id)
    try:
        result = StationResult.from_json(payload)
    except (KeyError, TypeError, ValueError) as exc:
        raise _refuse(f"malformed payload ({type(exc).__name__}: {exc})") from None
    return replace(result, file_sha256=hashlib.sha256(data).hexdigest())


@dataclass
class ImportReport:
    """What ``import_folder`` did with each file (names relative to the folder)."""

    imported: list[tuple[str, int]] = field(default_factory=list)  # (file, run_id)
    already: list[tuple[str, int]] = field(default_factory=list)  # imported before
    refused: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)

    def to_json(self) -> dict[str, Any]:
        return {
            "imported": [{"file": f, "run_id": r} for f, r in self.imported],
            "already": [{"file": f, "run_id": r} for f, r in self.already],
            "refused": [{"file": f, "reason": why} for f, why in self.refused],
        }


@dataclass(frozen=True)
class _Importer:
    site: Site
    conn: sqlite3.Connection
    exam_id: str | None
    keys: dict[str, StationKey]


def _import_file(importer: _Importer, path: Path, report: ImportReport) -> None:
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        report.refused.append((name, f"cannot read: {exc.strerror}"))
        return
    existing = stored_run_id(importer.conn, hashlib.sha256(data).hexdigest())
    if existing is not None:
        report.already.append((name, existing))
        return
    try:
        result = verify_result_file(
            importer.site, data, exam_id=importer.exam_id, keys=importer.keys
        )
    except VerificationFailed as exc:
        report.refused.append((name, exc.message))
        return
    report.imported.append((name, save_station_run(importer.conn, replace(result, source=name))))


def import_folder(
    site: Site, conn: sqlite3.Connection, folder: Path, *, exam_id: str | None = None
) -> ImportReport:
    """Verify and store every ``*.station.json`` in ``folder`` (and its ``results/``).

    Idempotent: a file already stored is reported under ``already``. A refused file does
    not stop the others. Source files are only read.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise StorageError(_("{folder}: no such folder").format(folder=folder))
    paths = sorted(folder.glob(f"*{SUFFIX}")) + sorted((folder / "results").glob(f"*{SUFFIX}"))
    report = ImportReport()
    importer = _Importer(site, conn, exam_id, known_keys(site))
    for path in paths:
        _import_file(importer, path, report)
    return report
