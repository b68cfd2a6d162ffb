"""Fixtures of the reports tests: a site with keys and a store holding every job's results.

The other jobs' results are written the way those jobs store them (their tables,
or their public API where one writes), so the reports read real rows.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import minimal_config, write_site

PASSPHRASE = "test-pass-Ключ"
EXAM = "2026-05-28-math"
CAMERAS = [
    {"id": "aud-0001-a", "zone": "auditorium", "room": "Аудитория 0001", "source": "cam1.mp4"},
    {"id": "corridor-1", "zone": "corridor", "room": "Коридор 1 этажа", "source": "cam2.mp4"},
    {"id": "entrance", "zone": "entrance", "room": "Вход", "source": "cam3.mp4"},
]


def russian_config(**overrides) -> dict:
    config = minimal_config(cameras=CAMERAS)
    config["point"] = {
        "code": "7701",
        "name": "Школа № 5",
        "address": "ул. Ленина, 1, Москва",
        "region": "77",
        "timezone": "Europe/Moscow",
        "language": "ru",
    }
    config["staff"] = {
        "technician": {"name": "Иванов И.И.", "position": "технический специалист"},
        "head": {"name": "Петров А.А.", "position": "руководитель ППЭ"},
        "commission": {"name": "Сидорова С.С.", "position": "член ГЭК"},
    }
    config.update(overrides)
    return config


def keyed_site(site_dir: Path, monkeypatch: pytest.MonkeyPatch, config: dict | None = None):
    """A Russian site with keys made by ``init_keys`` and the passphrase in the environment."""
    from ppe_tech.keys import init_keys
    from ppe_tech.site import load_site

    write_site(site_dir, config or russian_config())
    monkeypatch.setenv("PPE_KEY_PASSPHRASE", PASSPHRASE)
    site = load_site(site_dir)
    init_keys(site, PASSPHRASE.encode())
    return site


@pytest.fixture
def rsite(site_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """A Russian site with keys made by ``init_keys`` and the passphrase in the environment."""
    return keyed_site(site_dir, monkeypatch)


@pytest.fixture
def conn(rsite):
    from ppe_tech.store import connect

    db = connect(rsite.db_path)
    yield db
    db.close()


HEAD_PASSPHRASE = "head-pass-Петров"


def give_own_key(site, monkeypatch, role: str = "head", passphrase: str = HEAD_PASSPHRASE):
    """``role``'s own key issued by the site root, its passphrase in $PPE_KEY_PASSPHRASE_ROLE."""
    from ppe_tech.signers import init_person, passphrase_env

    monkeypatch.setenv(passphrase_env(site, role), passphrase)
    return init_person(
        site, role, passphrase=passphrase.encode(), root_passphrase=PASSPHRASE.encode()
    )


def add_checklist_run(conn, exam_id: str = EXAM, late_minutes: int = 0) -> None:
    cur = conn.execute(
        "INSERT INTO check_runs (checklist, title_ru, title_en, exam_id, started_at, finished_at,"
        " deadline, late_minutes, status, operator, disabled_items) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            "pre-exam",
            "Проверка за два часа до начала",
            "Two hours before the start",
            exam_id,
            "2026-05-28T04:40:00Z",
            "2026-05-28T04:52:00Z",
            "2026-05-28T08:00:00+03:00",
            late_minutes,
            "failed",
            "tech",
            json.dumps(["printer-ready"]),
        ),
    )
    run_id = cur.lastrowid
    rows = [
        (
            "station-clock",
            "stations",
            "Станции",
            "Stations",
            "Часы станции",
            "Station clock",
            "critical",
            "clock",
            "pass",
            "+0.4 s",
            "within 60 s",
            None,
            None,
            None,
        ),
        (
            "station-version",
            "stations",
            "Станции",
            "Stations",
            "Версия ПО станции",
            "Station software version",
            "critical",
            "command",
            "fail",
            "3.7",
            ">=3.8",
            "version 3.7 is older than required",
            None,
            None,
        ),
        (
            "portal",
            "staff-room",
            "Штаб ППЭ",
            "Staff room",
            "Канал связи с порталом",
            "Link to the federal portal",
            "critical",
            "http",
            "pass",
            "200 in 80 ms",
            "200",
            None,
            None,
            None,
        ),
        (
            "backup-kit",
            "staff-room",
            "Штаб ППЭ",
            "Staff room",
            "Резервный комплект на месте",
            "Backup kit in place",
            "warning",
            "manual",
            "pass",
            "yes",
            "yes",
            None,
            "Иванов И.И.",
            "в сейфе",
        ),
    ]
    for pos, r in enumerate(rows):
        conn.execute(
            "INSERT INTO check_results (run_id, position, item_id, section_id, section_ru, section_en,"
            " title_ru, title_en, severity, kind, status, value, expected, message, duration_ms,"
            " attempts, answered_by, comment, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (run_id, pos, *r[:12], 120, 1, r[12], r[13], "2026-05-28T04:51:00Z"),
        )


def add_archive(conn, exam_id: str = EXAM) -> None:
    files = [
        {
            "camera": cam,
            "path": f"data/2026-05-28/07/{cam}/{m:02d}.00.mp4",
            "size": 1_500_000 + m,
            "sha256": "ab" * 32,
            "start": f"2026-05-28T07:{m:02d}:00Z",
            "duration": 60.0,
            "decodable": True,
        }
        for cam in ("corridor-1", "entrance")
        for m in range(3)
    ]
    conn.execute(
        "INSERT INTO recordings_archives (exam_id, created_at, window_start, window_end, margin_seconds,"
        " zones, cameras, bag_path, total_bytes, file_count, manifest_sha256, files, gaps, undecodable)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            exam_id,
            "2026-05-28T12:00:00Z",
            "2026-05-28T06:30:00Z",
            "2026-05-28T11:25:00Z",
            1800,
            json.dumps(["corridor", "entrance"]),
            json.dumps(["corridor-1", "entrance"]),
            "/media/archive/7701-2026-05-28-math",
            sum(f["size"] for f in files),
            len(files),
            "c0ffee" * 10 + "abcd",
            json.dumps(files),
            json.dumps(
                [
                    {
                        "camera": "entrance",
                        "start": "2026-05-28T07:03:00Z",
                        "end": "2026-05-28T07:05:30Z",
                        "seconds": 150,
                    }
                ]
            ),
            "[]",
        ),
    )


def add_log(site, conn, n: int = 6) -> None:
    from ppe_tech.pak.journal import record_action

    actions = [
        "performance_check",
        "recording_start",
        "angle_adjustment",
        "export",
        "card_removal",
        "card_installation",
    ]
    for i in range(n):
        start = (
            datetime(2026, 5, 28, 7, 0) if i == 0 else datetime(2026, 5, 28, 7 + (i % 5), i % 60)
        )
        record_action(
            site,
            conn,
            action=actions[i % len(actions)],
            rooms="Аудитория 0001, Штаб",
            start=start,
            performed_by="technician",
            responsible="head",
        )


@pytest.fixture
def populated(rsite, conn):
    add_checklist_run(conn)
    add_camera_run(rsite, conn, len(CAMERAS))  # every camera of the site verified for the exam
    add_archive(conn)
    add_log(rsite, conn)
    return rsite


def pdf_text(path: Path) -> str:
    """The PDF's text (pdftotext, else pypdf), whitespace collapsed so wrapped cells still match."""
    if shutil.which("pdftotext") is None:
        from pypdf import PdfReader

        text = "\n".join(p.extract_text() for p in PdfReader(str(path)).pages)
    else:
        text = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
    # words hyphenated at a line end (WeasyPrint's hyphens: auto writes U+2010) read whole
    text = re.sub("[\u2010\u00ad]\\s+", "", text)
    return " ".join(text.split())


def make_ca(folder: Path) -> tuple[Path, tuple]:
    """A test CA (CA:TRUE) as ca.pem, and (certificate, key) to issue with."""
    from datetime import UTC, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC) - timedelta(minutes=5)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Regional CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = folder / "ca.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return ca_pem, (ca, ca_key)


def issue_p12(folder: Path, issuer: tuple, p12_pass: bytes, *, cn: str, name: str = "site") -> Path:
    """A signing certificate for ``cn`` issued by ``issuer`` (make_ca), as NAME.p12 with the CA."""
    from datetime import UTC, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    ca, ca_key = issuer
    now = datetime.now(UTC) - timedelta(minutes=5)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=100))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    p12 = folder / f"{name}.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            name.encode(), key, leaf, [ca], serialization.BestAvailableEncryption(p12_pass)
        )
    )
    return p12


def make_ca_and_p12(folder: Path, p12_pass: bytes, *, cn: str = "Иванов И.И.") -> tuple[Path, Path]:
    """A test CA (CA:TRUE) and a signing certificate it issued, as ca.pem and site.p12."""
    ca_pem, issuer = make_ca(folder)
    return ca_pem, issue_p12(folder, issuer, p12_pass, cn=cn)


def nss_db(folder: Path, ca_pem: Path) -> str:
    """An NSS database trusting ``ca_pem`` (for poppler's pdfsig); skips without certutil."""
    if shutil.which("certutil") is None or shutil.which("pdfsig") is None:
        pytest.skip("certutil (libnss3-tools) or pdfsig (poppler-utils) not installed")
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["certutil", "-N", "--empty-password", "-d", f"sql:{folder}"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            "certutil",
            "-A",
            "-n",
            "test-ca",
            "-t",
            "CT,C,C",
            "-i",
            str(ca_pem),
            "-d",
            f"sql:{folder}",
        ],
        check=True,
        capture_output=True,
    )
    return f"sql:{folder}"


def pdfsig(path: Path, nssdir: str) -> list[dict[str, str]]:
    """pdfsig's verdict per signature: {"field", "signature", "certificate", "coverage"}."""
    out = subprocess.run(["pdfsig", "-nssdir", nssdir, str(path)], capture_output=True, text=True)
    sigs: list[dict[str, str]] = []
    for line in out.stdout.splitlines():
        line = line.strip()
        if line.startswith("Signature #"):
            sigs.append({})
        elif line.startswith("- Signature Field Name:"):
            sigs[-1]["field"] = line.split(":", 1)[1].strip()
        elif line.startswith("- Signer Certificate Common Name:"):
            sigs[-1]["common_name"] = line.split(":", 1)[1].strip()
        elif line.startswith("- Signature Validation:"):
            sigs[-1]["signature"] = line.split(":", 1)[1].strip()
        elif line.startswith("- Certificate Validation:"):
            sigs[-1]["certificate"] = line.split(":", 1)[1].strip()
        elif "document signed" in line.lower():
            sigs[-1]["coverage"] = line.lstrip("- ").strip()
    return sigs


def snapshot_jpegs(count: int, size: tuple[int, int] = (768, 576)) -> list[bytes]:
    """``count`` JPEG frames of the real walkway clip shipped with the package."""
    import cv2

    clip = Path(__file__).resolve().parents[2] / "ppe_tech" / "demo_data" / "walkway.mp4"
    cap = cv2.VideoCapture(str(clip))
    frames: list[bytes] = []
    try:
        while len(frames) < count:
            ok, frame = cap.read()
            if not ok:
                cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                continue
            for _ in range(5):  # spread the frames out a little
                cap.grab()
            frame = cv2.resize(frame, size)
            frames.append(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes())
    finally:
        cap.release()
    return frames


def add_camera_run(site, conn, count: int, exam_id: str = EXAM) -> None:
    """A stored camera verification of ``count`` cameras, each with a snapshot JPEG."""
    site.snapshots_dir.mkdir(exist_ok=True)
    cur = conn.execute(
        "INSERT INTO camera_runs (started_at, finished_at, exam_id, sample_s, selection, status)"
        " VALUES (?,?,?,?,?,?)",
        ("2026-05-28T04:45:00Z", "2026-05-28T04:46:10Z", exam_id, 3.0, "all", "warning"),
    )
    for i, jpeg in enumerate(snapshot_jpegs(count)):
        cam = (
            CAMERAS[i]
            if i < len(CAMERAS)
            else {"id": f"aud-{i:04d}-a", "zone": "auditorium", "room": f"Аудитория {i:04d}"}
        )
        rel = f"snapshots/{cam['id']}.jpg"
        (site.folder / rel).write_bytes(jpeg)
        findings = (
            []
            if i % 4
            else [
                {
                    "code": "dark",
                    "severity": "warning",
                    "message": "picture too dark (mean 31 < 40)",
                }
            ]
        )
        conn.execute(
            "INSERT INTO camera_results (run_id, camera_id, zone, room, source, status, findings,"
            " metrics, snapshot, duration_ms) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                cur.lastrowid,
                cam["id"],
                cam["zone"],
                cam["room"],
                "rtsp://viewer:***@10.0.0.21/s1",
                "warning" if findings else "ok",
                json.dumps(findings),
                "{}",
                rel,
                2100,
            ),
        )
