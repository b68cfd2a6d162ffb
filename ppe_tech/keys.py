"""The site's signing key and certificate: make, import, load, describe, trust.

The key is an RSA key in a PEM file encrypted with a passphrase taken from the
environment variable named by ``signing.passphrase_env`` (default
``PPE_KEY_PASSPHRASE``); it is written atomically with mode 0600. The
certificate file holds the site certificate first and then, for an imported
PKCS#12, the issuing chain. ``keys init`` makes a self-signed certificate fit
for PDF signing (key usage digitalSignature + nonRepudiation); it is its own
root (CA:TRUE, path length 0, keyCertSign), because NSS (poppler's ``pdfsig``)
refuses to use a CA:FALSE certificate as a trust anchor. ``keys import`` takes a
PKCS#12 issued by an organisation's CA.

A site always trusts its own certificate (``trust_roots``); more roots come from
``signing.trust`` (PEM files). Every problem is a one-line ``KeysError`` (exit 5).

Used by the reports job (signing PDFs) and the PAK job (signing checkpoints).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ppe_tech.errors import KeysError
from ppe_tech.fsutil import atomic_write_bytes, read_regular, storage_error
from ppe_tech.i18n import _

# asks a person for a secret at a terminal: (prompt) -> the typed text; None: do not ask
Ask = Callable[[str], str] | None

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

    from ppe_tech.site import Site

KEY_SIZE = 3072
KEY_FILE_LIMIT = 1024**2  # keys, certificates and .p12 files are kilobytes
log = logging.getLogger("ppe_tech.keys")


def key_path(site: Site) -> Path:
    return site.path(site.config.signing.key)


def cert_path(site: Site) -> Path:
    return site.path(site.config.signing.cert)


def secret(variable: str, what: str, ask: Ask = None) -> bytes:
    """A secret from ``$variable``, else typed at the terminal (``ask``), else a KeysError that
    says what to export."""
    value = os.environ.get(variable)
    if not value and ask is not None:
        value = ask(_("{what} (or export {variable})").format(what=what, variable=variable))
    if not value:
        message = _(
            "no {what}: export {variable}=... (or run the command at a terminal to type it)"
        )
        raise KeysError(message.format(what=what, variable=variable))
    return value.encode("utf-8")


def passphrase_from_env(site: Site, ask: Ask = None) -> bytes:
    """The site key's passphrase from ``$signing.passphrase_env``, else typed (``ask``)."""
    return secret(site.config.signing.passphrase_env, _("passphrase of the site key"), ask)


def rel_path(site: Site, path: Path) -> str:
    try:
        return str(path.relative_to(site.folder))
    except ValueError:
        return str(path)


def _refuse_overwrite(site: Site) -> None:
    for path in (key_path(site), cert_path(site)):
        if path.exists():
            raise KeysError(
                _(
                    "{file} already exists; refusing to overwrite the site's keys "
                    "(move the old key and certificate away first)"
                ).format(file=rel_path(site, path))
            )


def write_pair(
    site: Site, key_pem: bytes | None, cert_pem: bytes, paths: tuple[Path, Path] | None = None
) -> tuple[Path, Path]:
    """Write a key (0600; None: no key file, e.g. a key on a token) and its certificate."""
    kp, cp = paths or (key_path(site), cert_path(site))
    for folder in {kp.parent, cp.parent}:
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise storage_error(exc, _("cannot create"), folder) from exc
    if key_pem is not None:
        atomic_write_bytes(kp, key_pem, mode=0o600)
    atomic_write_bytes(cp, cert_pem, mode=0o644)
    return kp, cp


def encrypt_key(private_key: Any, passphrase: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )


def subject_name(site: Site, common_name: str, *, title: str | None = None) -> x509.Name:
    """C=RU, ST=region, O=point name, OU=exam point CODE, [title=position], CN=person."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    point = site.config.point
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "RU")]
    if point.region:
        attrs.append(x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, point.region[:128]))
    attrs += [
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, point.name[:64] or "exam point"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"exam point {point.code}"[:64]),
    ]
    if title:
        attrs.append(x509.NameAttribute(NameOID.TITLE, title[:64]))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]))
    return x509.Name(attrs)


def make_certificate(
    *,
    subject: x509.Name,
    public_key: Any,
    issuer: tuple[x509.Name, Any],
    days: int,
    now: datetime | None = None,
    ca: bool = False,
) -> x509.Certificate:
    """A signing certificate (digitalSignature + nonRepudiation) issued by (issuer name, key).

    ``ca`` True: the site root (CA:TRUE, path length 0, keyCertSign), self-signed when the
    issuer is the subject; False: a person's certificate (CA:FALSE) under that root.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    issuer_name, issuer_key = issuer
    start = (now or datetime.now(UTC)) - timedelta(minutes=5)
    ski = x509.SubjectKeyIdentifier.from_public_key(public_key)
    issuer_ski = x509.SubjectKeyIdentifier.from_public_key(issuer_key.public_key())
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,  # nonRepudiation
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )


def init_keys(
    site: Site,
    passphrase: bytes | None,
    common_name: str | None = None,
    days: int = 730,
    *,
    key_size: int = KEY_SIZE,
    now: datetime | None = None,
) -> tuple[Path, Path]:
    """Make the site's RSA key (encrypted PEM, 0600) and a self-signed signing certificate.

    ``passphrase`` None reads ``$signing.passphrase_env``. Refuses to overwrite
    existing files. Returns (key path, certificate path).
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if passphrase is None:
        passphrase = passphrase_from_env(site)
    if not passphrase:
        raise KeysError(_("the key passphrase is empty; set a non-empty passphrase"))
    if days <= 0:
        raise KeysError(
            _("certificate validity must be at least one day, not {days}").format(days=days)
        )
    _refuse_overwrite(site)

    technician = site.config.staff.get("technician")
    point = site.config.point
    cn = common_name or (technician.name if technician else f"{point.name} ({point.code})")
    name = subject_name(site, cn)
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    cert = make_certificate(
        subject=name, public_key=key.public_key(), issuer=(name, key), days=days, now=now, ca=True
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    return write_pair(site, encrypt_key(key, passphrase), cert_pem)


def import_p12(
    site: Site, path: Path | str, passphrase: bytes | None, key_passphrase: bytes | None = None
) -> tuple[Path, Path]:
    """Take a key and certificate (and chain) from a PKCS#12 file issued by a CA.

    ``passphrase`` opens the .p12 (None: ``$signing.passphrase_env``); the key is
    stored encrypted with ``key_passphrase`` (None: ``$signing.passphrase_env``).
    """
    from cryptography.hazmat.primitives import serialization

    if key_passphrase is None:
        key_passphrase = passphrase_from_env(site)
    if passphrase is None:
        passphrase = key_passphrase
    _refuse_overwrite(site)
    key, cert, extra = read_p12(path, passphrase)
    pem = cert.public_bytes(serialization.Encoding.PEM) + b"".join(
        c.public_bytes(serialization.Encoding.PEM) for c in extra
    )
    return write_pair(site, encrypt_key(key, key_passphrase), pem)


def read_p12(path: Path | str, passphrase: bytes | None) -> tuple[Any, Any, list[Any]]:
    """(key, certificate, issuers) from a PKCS#12 file, checked fit for signing."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    path = Path(path)
    try:
        data = read_regular(path, limit=KEY_FILE_LIMIT)
    except FileNotFoundError:
        raise KeysError(_("{file}: no such file").format(file=path)) from None
    except OSError as exc:
        raise KeysError(
            _("{file}: cannot read: {reason}").format(file=path, reason=exc.strerror or exc)
        ) from None
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, passphrase or None)
    except ValueError:
        try:  # a p12 without a password
            key, cert, extra = pkcs12.load_key_and_certificates(data, None)
        except ValueError:
            raise KeysError(
                _("{file}: wrong passphrase, or not a PKCS#12 file").format(file=path)
            ) from None
    if key is None or cert is None:
        raise KeysError(
            _("{file}: the PKCS#12 file holds no private key and certificate").format(file=path)
        )
    check_usable(cert, key, str(path))
    return key, cert, list(extra or [])


def load_certs(site: Site, path: Path, what: str) -> list[x509.Certificate]:
    from cryptography import x509

    try:
        data = read_regular(path, limit=KEY_FILE_LIMIT)
    except FileNotFoundError:
        raise KeysError(
            _(
                "{what} {file} not found (make one: ppe-tech keys init, "
                "or ppe-tech keys import FILE.p12)"
            ).format(what=what, file=rel_path(site, path))
        ) from None
    except OSError as exc:
        raise KeysError(
            _("{what} {file}: cannot read: {reason}").format(
                what=what, file=rel_path(site, path), reason=exc.strerror or exc
            )
        ) from None
    try:
        if b"-----BEGIN" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise KeysError(
            _("{what} {file} is not a PEM or DER certificate").format(
                what=what, file=rel_path(site, path)
            )
        ) from None
    return certs


def check_validity(cert: x509.Certificate, what: str, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    if now < cert.not_valid_before_utc:
        start = cert.not_valid_before_utc
        raise KeysError(
            _("{what} is not valid before {start} UTC").format(
                what=what, start=f"{start:%Y-%m-%d %H:%M}"
            )
        )
    if now > cert.not_valid_after_utc:
        raise KeysError(
            _("{what} expired on {end} UTC (make or import a new one)").format(
                what=what, end=f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M}"
            )
        )


def check_usable(cert: x509.Certificate, key: Any, what: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != cert.public_key().public_bytes(*spki):
        raise KeysError(
            _("{what}: the private key does not match the certificate").format(what=what)
        )
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise KeysError(
            _("{what}: the certificate's key usage does not allow signing").format(what=what)
        )


def site_certificate(site: Site) -> x509.Certificate:
    """The site's certificate (the first one in ``signing.cert``)."""
    return load_certs(site, cert_path(site), _("certificate"))[0]


def site_chain(site: Site) -> list[x509.Certificate]:
    """The certificates after the site's own in ``signing.cert`` (issuers of an imported one)."""
    return load_certs(site, cert_path(site), _("certificate"))[1:]


def load_signing_key(
    site: Site, passphrase: bytes | None = None, *, now: datetime | None = None
) -> tuple[PrivateKeyTypes, x509.Certificate, list[x509.Certificate]]:
    """(private key, site certificate, chain) ready to sign, or a one-line KeysError.

    ``passphrase`` None reads ``$signing.passphrase_env``. Checks that the key
    opens, matches the certificate, and that the certificate is valid now.
    """
    if passphrase is None and b"ENCRYPTED" in _read_key_file(site, key_path(site)):
        passphrase = passphrase_from_env(site)
    return load_key_file(site, key_path(site), cert_path(site), passphrase, now=now)


def _read_key_file(site: Site, kp: Path) -> bytes:
    try:
        return read_regular(kp, limit=KEY_FILE_LIMIT)
    except FileNotFoundError:
        raise KeysError(
            _(
                "signing key {file} not found (make one: ppe-tech keys init, "
                "or ppe-tech keys import FILE.p12)"
            ).format(file=rel_path(site, kp))
        ) from None
    except OSError as exc:
        reason = exc.strerror or exc
        raise KeysError(
            _("signing key {file}: cannot read: {reason}").format(
                file=rel_path(site, kp), reason=reason
            )
        ) from None


def key_file_problems(site: Site, kp: Path, data: bytes | None = None) -> list[str]:
    """What is wrong with how a key file is kept: readable by others, not encrypted."""
    problems = []
    shown = rel_path(site, kp)
    if os.name == "posix":  # Windows has no mode bits; its ACLs are the folder's business
        try:
            mode = kp.stat().st_mode & 0o777
        except OSError:
            mode = 0
        if mode & 0o077:
            problems.append(
                f"key file {shown} can be read by other users (mode {mode:o}): "
                f"run chmod 600 {shown}"
            )
    if data is None:
        data = _read_key_file(site, kp)
    if b"ENCRYPTED" not in data:
        problems.append(
            f"key file {shown} is not encrypted: anyone who copies it can sign; make a new "
            "encrypted key with ppe-tech keys init (or keys import FILE.p12)"
        )
    return problems


@functools.lru_cache(maxsize=8)
def _open_key(key_data: bytes, passphrase: bytes | None) -> Any:
    """Decrypt a PEM key; remembered for this process (by the file's bytes and passphrase):
    PBKDF2 makes each decryption cost most of a second, and one report opens the key for its
    checkpoint and its signature, a batch of room protocols dozens of times."""
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(key_data, passphrase)


def load_key_file(
    site: Site,
    kp: Path,
    cp: Path,
    passphrase: bytes | None,
    *,
    now: datetime | None = None,
) -> tuple[PrivateKeyTypes, x509.Certificate, list[x509.Certificate]]:
    """Open one key file with its certificate file; warns (log) when the file is badly kept."""

    key_data = _read_key_file(site, kp)
    for problem in key_file_problems(site, kp, key_data):
        log.warning("warning: %s", problem)
    certs = load_certs(site, cp, _("certificate"))
    encrypted = b"ENCRYPTED" in key_data
    try:
        key = _open_key(key_data, passphrase if encrypted else None)
    except ValueError as exc:
        if encrypted and ("password" in str(exc).lower() or "decrypt" in str(exc).lower()):
            raise KeysError(
                _("wrong passphrase for the signing key {file}").format(file=rel_path(site, kp))
            ) from None
        raise KeysError(
            _("signing key {file}: not a PEM private key or wrong passphrase").format(
                file=rel_path(site, kp)
            )
        ) from None
    except TypeError:
        raise KeysError(
            _("signing key {file}: a passphrase is required").format(file=rel_path(site, kp))
        ) from None
    cert = certs[0]
    what = _("certificate {file}").format(file=rel_path(site, cp))
    check_validity(cert, what, now)
    check_usable(cert, key, what)
    return key, cert, certs[1:]


def trust_roots(site: Site) -> list[x509.Certificate]:
    """Certificates a verifier of this site trusts: its own, then ``signing.trust`` PEMs."""
    roots: list[x509.Certificate] = []
    cp = cert_path(site)
    if cp.exists():
        roots.append(site_certificate(site))
    for configured in site.config.signing.trust:
        roots.extend(load_certs(site, site.path(configured), _("trust root")))
    return roots


def describe_certificate(cert: x509.Certificate) -> dict[str, Any]:
    """Plain data about a certificate, for ``keys show`` and reports."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        usages = [
            label
            for label, attr in (
                ("digitalSignature", "digital_signature"),
                ("nonRepudiation", "content_commitment"),
            )
            if getattr(usage, attr)
        ]
    except x509.ExtensionNotFound:
        usages = []
    now = datetime.now(UTC)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "self_signed": cert.subject == cert.issuer,
        "serial": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "valid_now": cert.not_valid_before_utc <= now <= cert.not_valid_after_utc,
        "key_usage": usages,
        "sha256": cert.fingerprint(hashes.SHA256()).hex(),
    }


def to_asn1(private_key: Any, cert: Any, chain: list[Any]) -> tuple[Any, Any, list[Any]]:
    """(PrivateKeyInfo, Certificate, [Certificate]) of asn1crypto, as pyHanko takes them."""
    from asn1crypto import keys as akeys
    from cryptography.hazmat.primitives import serialization

    der = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return akeys.PrivateKeyInfo.load(der), to_asn1_cert(cert), [to_asn1_cert(c) for c in chain]


def to_asn1_cert(cert: Any) -> Any:
    from asn1crypto import x509 as ax509
    from cryptography.hazmat.primitives import serialization

    return ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
