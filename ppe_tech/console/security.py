"""Sessions, CSRF tokens, login throttling and the console's TLS certificate.

Every browser gets a server-side session (a random cookie); each session has its own CSRF
token that every form and every htmx request must carry. On 127.0.0.1 a session needs no
login. With ``--lan`` a session is logged in only by the technician's passphrase (the one
that opens the site's signing key) or by the one-time code printed in the terminal, and it
expires after ``session_ttl`` without use.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ppe_tech.errors import KeysError

COOKIE = "ppe_console"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
LOGIN_ATTEMPTS = 5  # failed logins per client per LOGIN_WINDOW before it has to wait
LOGIN_WINDOW = 300.0


@dataclass
class Session:
    token: str
    csrf: str
    logged_in: bool
    last_seen: float


@dataclass
class Sessions:
    ttl: float
    require_login: bool
    one_time_code: str | None = None
    _sessions: dict[str, Session] = field(default_factory=dict)
    _failures: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, token: str | None) -> Session | None:
        """The live session of this cookie (its clock restarted), or None when expired."""
        now = time.monotonic()
        with self._lock:
            session = self._sessions.get(token or "")
            if session is None:
                return None
            if now - session.last_seen > self.ttl:
                del self._sessions[session.token]
                return None
            session.last_seen = now
            return session

    def new(self) -> Session:
        session = Session(
            secrets.token_urlsafe(32),
            secrets.token_urlsafe(32),
            logged_in=not self.require_login,
            last_seen=time.monotonic(),
        )
        with self._lock:
            self._sessions[session.token] = session
        return session

    def log_in(self, old: Session) -> Session:
        """A fresh session (new cookie, new CSRF token) for a successful login."""
        with self._lock:
            self._sessions.pop(old.token, None)
        session = self.new()
        session.logged_in = True
        return session

    def log_out(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.token, None)

    def throttled(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(client, []) if now - t < LOGIN_WINDOW]
            self._failures[client] = recent
            return len(recent) >= LOGIN_ATTEMPTS

    def failed(self, client: str) -> None:
        with self._lock:
            self._failures.setdefault(client, []).append(time.monotonic())

    def code_matches(self, given: str) -> bool:
        """The one-time code works once: it is gone after the first login with it."""
        with self._lock:
            code = self.one_time_code
            if code and hmac.compare_digest(given.strip().encode(), code.encode()):
                self.one_time_code = None
                return True
            return False


def csrf_ok(session: Session | None, given: str | None) -> bool:
    return bool(session and given and hmac.compare_digest(given.encode(), session.csrf.encode()))


def passphrase_ok(site, given: str) -> bool:
    """True when ``given`` opens the site's signing key (the technician's passphrase)."""
    from ppe_tech.keys import load_signing_key

    if not given:
        return False
    try:
        load_signing_key(site, given.encode("utf-8"))
    except KeysError:
        return False
    return True


def new_code() -> str:
    return "-".join(secrets.token_hex(2) for _ in range(3))


def console_certificate(site, hosts: list[str]) -> tuple[Path, Path]:
    """The console's HTTPS certificate, issued by the site's own root (its signing cert).

    Kept in ``keys/console.cert.pem`` and ``keys/console.key.pem`` (0600) and made again only
    when missing, expiring within a week, or not naming every host, so a station that was
    given this certificate on its stick keeps trusting the same one.
    """
    from ppe_tech.keys import load_signing_key

    cert_file, key_file = (
        site.folder / "keys" / "console.cert.pem",
        site.folder / "keys" / "console.key.pem",
    )
    if _still_good(cert_file, key_file, hosts):
        return cert_file, key_file
    ca_key, ca_cert, _chain = load_signing_key(site)
    cert_pem, key_pem = _issue(ca_key, ca_cert, hosts)
    from ppe_tech.fsutil import atomic_write_bytes

    atomic_write_bytes(key_file, key_pem, mode=0o600)
    atomic_write_bytes(cert_file, cert_pem)
    return cert_file, key_file


def _still_good(cert_file: Path, key_file: Path, hosts: list[str]) -> bool:
    from cryptography import x509

    if not (cert_file.is_file() and key_file.is_file()):
        return False
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    if cert.not_valid_after_utc - datetime.now(UTC) < timedelta(days=7):
        return False
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    known = {str(v) for v in names.get_values_for_type(x509.IPAddress)} | set(
        names.get_values_for_type(x509.DNSName)
    )
    return set(hosts) <= known


def _issue(ca_key, ca_cert, hosts: list[str]) -> tuple[bytes, bytes]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = []
    for host in hosts:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt.append(x509.DNSName(host))
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"ppe-tech console {hosts[0]}")])
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(min(now + timedelta(days=365), ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem
