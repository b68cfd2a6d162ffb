"""Each person signs with their own key: per-role keys, certificates and tokens.

A person's key lives beside the site key (``keys/`` by default):

- ``keys/ROLE.key.pem`` + ``keys/ROLE.cert.pem``: a key file encrypted with the person's own
  passphrase (``$PPE_KEY_PASSPHRASE_<ROLE>``, or ``signing.people.ROLE.passphrase_env``, or
  asked at a terminal), its certificate naming the person (CN) and position (title), issued
  by the site root (``keys init``: the site key) or imported from the organisation's CA (.p12);
- ``keys/ROLE.token.json`` + ``keys/ROLE.cert.pem``: the key stays on a PKCS#11 token (module,
  token label, key label); the PIN comes from ``$PPE_PIN_<ROLE>`` or a terminal.

A role with no key of its own falls back to the site key (sites made before per-person keys:
the site key is the technician's). Either way ``role_key`` refuses a key whose certificate
names someone other than the person ``staff.ROLE`` names: a signature "as head" is the head's
or it is not made.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ppe_tech import pkcs11keys
from ppe_tech.errors import ConfigError, KeysError
from ppe_tech.fsutil import atomic_write_bytes
from ppe_tech.i18n import _
from ppe_tech.keys import (
    Ask,
    cert_path,
    check_usable,
    check_validity,
    encrypt_key,
    key_file_problems,
    key_path,
    load_certs,
    load_key_file,
    log,
    make_certificate,
    passphrase_from_env,
    read_p12,
    rel_path,
    secret,
    subject_name,
    to_asn1,
    write_pair,
)
from ppe_tech.pkcs11keys import TokenRef

if TYPE_CHECKING:
    from cryptography import x509

    from ppe_tech.site import Person, Site


@dataclass
class RoleKey:
    """The key that signs for one role, and the certificate that names its person."""

    role: str
    person: str  # the name ppe.yaml gives the role
    source: str  # "file" (the person's key), "token" (PKCS#11), "site" (the site key)
    cert: x509.Certificate
    chain: list[x509.Certificate]
    key_file: Path | None = None
    token: TokenRef | None = None
    problems: list[str] = field(default_factory=list)  # how the key file is kept

    @property
    def common_name(self) -> str:
        return certificate_person(self.cert)

    def to_json(self) -> dict[str, Any]:
        from ppe_tech.keys import describe_certificate

        return {
            "role": self.role,
            "person": self.person,
            "source": self.source,
            "key_file": str(self.key_file) if self.key_file else None,
            "token": self.token.to_json() if self.token else None,
            "certificate": describe_certificate(self.cert),
            "problems": self.problems,
        }


def certificate_person(cert: Any) -> str:
    """The common name of a certificate (cryptography or asn1crypto), '' when it has none."""
    if hasattr(cert, "subject") and hasattr(cert.subject, "native"):  # asn1crypto
        return str(cert.subject.native.get("common_name", ""))
    from cryptography.x509.oid import NameOID

    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def same_person(a: str, b: str) -> bool:
    """Names compared as a certificate keeps them: case, spacing and the 64-character cut."""
    return " ".join(a.split()).casefold()[:64] == " ".join(b.split()).casefold()[:64]


def _env_suffix(role: str) -> str:
    return role.upper().replace("-", "_")


def passphrase_env(site: Site, role: str) -> str:
    configured = site.config.signing.people.get(role)
    return (configured and configured.passphrase_env) or f"PPE_KEY_PASSPHRASE_{_env_suffix(role)}"


def pin_env(site: Site, role: str) -> str:
    configured = site.config.signing.people.get(role)
    return (configured and configured.pin_env) or f"PPE_PIN_{_env_suffix(role)}"


def person(site: Site, role: str) -> Person:
    member = site.config.staff.get(role)
    if member is None:
        raise ConfigError(
            _("staff.{role} is not in ppe.yaml: name the person first").format(role=role)
        )
    return member


def person_paths(site: Site, role: str) -> tuple[Path, Path, Path]:
    """(key file, certificate file, token reference) of ``role``, beside the site key."""
    if role == "site" or "/" in role or role.startswith("."):
        raise ConfigError(_("{role!r} cannot name a person's key").format(role=role))
    folder = key_path(site).parent
    return folder / f"{role}.key.pem", folder / f"{role}.cert.pem", folder / f"{role}.token.json"


def _refuse_overwrite(site: Site, role: str) -> None:
    for path in person_paths(site, role):
        if path.exists():
            from ppe_tech.site import staff_role_label

            raise KeysError(
                _(
                    "{file} already exists; refusing to overwrite {who}'s key "
                    "(move the old files away first)"
                ).format(file=rel_path(site, path), who=staff_role_label(role))
            )


def _root(site: Site, passphrase: bytes | None) -> tuple[Any, x509.Certificate]:
    """The site root (the site key made by ``keys init``) that issues the persons' certificates."""
    from cryptography import x509

    key, cert, _chain = load_key_file(
        site, key_path(site), cert_path(site), passphrase or passphrase_from_env(site)
    )
    try:
        ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        ca = False
    if not ca:
        raise KeysError(
            _(
                "the site certificate {file} is not a root that can issue certificates "
                "(it was imported from a CA): import each person's .p12 instead"
            ).format(file=rel_path(site, cert_path(site)))
        )
    return key, cert


def _issue(
    site: Site,
    role: str,
    public_key: Any,
    *,
    root_passphrase: bytes | None,
    days: int,
    now: datetime | None,
) -> bytes:
    """PEM of a certificate for ``role``'s person issued by the site root, then the root."""
    from cryptography.hazmat.primitives import serialization

    member = person(site, role)
    root_key, root_cert = _root(site, root_passphrase)
    cert = make_certificate(
        subject=subject_name(site, member.name, title=member.position),
        public_key=public_key,
        issuer=(root_cert.subject, root_key),
        days=days,
        now=now,
    )
    pem = serialization.Encoding.PEM
    return cert.public_bytes(pem) + root_cert.public_bytes(pem)


def init_person(
    site: Site,
    role: str,
    *,
    passphrase: bytes,
    root_passphrase: bytes | None = None,
    days: int = 730,
    now: datetime | None = None,
) -> RoleKey:
    """A key for ``role``'s person (encrypted with their passphrase) and a certificate from the
    site root naming them (``root_passphrase`` None: ``$signing.passphrase_env``)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from ppe_tech.keys import KEY_SIZE

    if days <= 0:
        raise KeysError(
            _("certificate validity must be at least one day, not {days}").format(days=days)
        )
    if not passphrase:
        raise KeysError(_("the key passphrase is empty; set a non-empty passphrase"))
    person(site, role)
    _refuse_overwrite(site, role)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    cert_pem = _issue(
        site, role, key.public_key(), root_passphrase=root_passphrase, days=days, now=now
    )
    kp, cp, _token = person_paths(site, role)
    write_pair(site, encrypt_key(key, passphrase), cert_pem, (kp, cp))
    return role_key(site, role)


def import_person_p12(
    site: Site, role: str, path: Path | str, *, p12_passphrase: bytes | None, passphrase: bytes
) -> RoleKey:
    """``role``'s key and certificate from a .p12 of the organisation's CA; the certificate
    must name the person."""
    from cryptography.hazmat.primitives import serialization

    member = person(site, role)
    _refuse_overwrite(site, role)
    key, cert, extra = read_p12(path, p12_passphrase)
    _check_names(role, member.name, cert, str(path))
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [cert, *extra])
    kp, cp, _token = person_paths(site, role)
    write_pair(site, encrypt_key(key, passphrase), pem, (kp, cp))
    return role_key(site, role)


def import_person_token(
    site: Site,
    role: str,
    ref: TokenRef,
    *,
    pin: bytes,
    root_passphrase: bytes | None = None,
    days: int = 730,
) -> RoleKey:
    """Sign for ``role`` with a key on a PKCS#11 token. The token's certificate (same label as
    the key) is used when it has one and names the person; else the site root issues one for
    the token's public key."""
    member = person(site, role)
    _refuse_overwrite(site, role)
    with pkcs11keys.session(ref, pin) as sess:
        cert_der = pkcs11keys.token_certificate(sess, ref.key)
        public_key = None if cert_der else pkcs11keys.public_key(sess, ref.key)
    if cert_der:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        cert = x509.load_der_x509_certificate(cert_der)
        _check_names(role, member.name, cert, _("token {token}").format(token=ref.token))
        cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    else:
        cert_pem = _issue(
            site, role, public_key, root_passphrase=root_passphrase, days=days, now=None
        )
    _key, cp, tp = person_paths(site, role)
    write_pair(site, None, cert_pem, (tp, cp))
    atomic_write_bytes(tp, json.dumps(ref.to_json(), indent=1).encode(), mode=0o600)
    return role_key(site, role)


def _check_names(role: str, name: str, cert: Any, what: str) -> None:
    from ppe_tech.site import staff_role_label

    cn = certificate_person(cert)
    if not same_person(cn, name):
        raise KeysError(
            _(
                "{what}: the certificate names {cn}, not {name} (staff.{role}); "
                "a {who}'s signature must be made with {name}'s own key"
            ).format(
                what=what, cn=cn or _("nobody"), name=name, role=role, who=staff_role_label(role)
            )
        )


def role_key(site: Site, role: str, *, now: datetime | None = None) -> RoleKey:
    """The key that signs for ``role``: the person's own, else the site key; refused (KeysError)
    when its certificate names someone else, or is expired."""
    member = person(site, role)
    kp, cp, tp = person_paths(site, role)
    if tp.is_file():
        certs = load_certs(site, cp, _("certificate"))
        found = RoleKey(role, member.name, "token", certs[0], certs[1:], token=_read_ref(site, tp))
    elif kp.is_file():
        certs = load_certs(site, cp, _("certificate"))
        found = RoleKey(role, member.name, "file", certs[0], certs[1:], key_file=kp)
    else:
        certs = load_certs(site, cert_path(site), _("certificate"))
        found = RoleKey(role, member.name, "site", certs[0], certs[1:], key_file=key_path(site))
    from ppe_tech.site import staff_role_label

    whose = _("{who}'s certificate {file}").format(
        who=staff_role_label(role), file=rel_path(site, cp)
    )
    check_validity(found.cert, whose, now)
    if not same_person(found.common_name, member.name):
        shown = rel_path(site, cp if found.source != "site" else cert_path(site))
        raise KeysError(
            _(
                "refusing to sign as {who} ({name}) with the key of {signer} ({file}): make "
                "{who}'s own key: ppe-tech keys init --person {role} (or keys import --person "
                "{role} FILE.p12)"
            ).format(
                who=staff_role_label(role),
                role=role,
                name=member.name,
                signer=found.common_name,
                file=shown,
            )
        )
    if found.key_file is not None and found.key_file.is_file():
        found.problems = key_file_problems(site, found.key_file)
    return found


def _read_ref(site: Site, path: Path) -> TokenRef:
    try:
        data = json.loads(path.read_text("utf-8"))
        return TokenRef(module=data["module"], token=data["token"], key=data["key"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeysError(
            _("token reference {file} is unreadable: {reason}").format(
                file=rel_path(site, path), reason=exc
            )
        ) from None


@contextmanager
def open_signer(
    site: Site, found: RoleKey, *, secret_value: bytes | None = None, ask: Ask = None
) -> Iterator[Any]:
    """A pyHanko signer for ``found`` (a PKCS#11 session stays open inside the block).

    ``secret_value`` is the passphrase (key file) or PIN (token); None: from the
    environment or ``ask``. Problems of how the key file is kept are logged as warnings.
    """
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    for problem in found.problems:
        log.warning("warning: %s", problem)
    issuers = [c for c in found.chain if c.subject != c.issuer]
    if found.token is not None:
        pin = secret_value or secret(
            pin_env(site, found.role), _("PIN of {role}'s token").format(role=found.role), ask
        )
        with pkcs11keys.signer(found.token, pin, found.cert, issuers) as token_signer:
            yield token_signer
        return
    assert found.key_file is not None
    if secret_value is None:
        if found.source == "site":
            secret_value = passphrase_from_env(site, ask)
        else:
            env = passphrase_env(site, found.role)
            secret_value = secret(env, _("passphrase of {role}'s key").format(role=found.role), ask)
    cp = cert_path(site) if found.source == "site" else person_paths(site, found.role)[1]
    key, cert, _chain = load_key_file(site, found.key_file, cp, secret_value)
    from ppe_tech.site import staff_role_label

    check_usable(cert, key, staff_role_label(found.role))
    akey, acert, achain = to_asn1(key, cert, issuers)
    yield loaded_key_signer(
        key,
        signing_cert=acert,
        signing_key=akey,
        # the issuers only: pyHanko adds the signing certificate itself, and a self-signed root
        # must already be the verifier's trust anchor
        cert_registry=SimpleCertificateStore.from_certs(achain),
    )


def loaded_key_signer(key: Any, **kwargs: Any) -> Any:
    """pyHanko's SimpleSigner signing RSA PKCS#1 v1.5 with ``key`` as loaded: its own
    ``sign_raw`` parses the key from DER again at every signature (two per document, the
    size estimate and the real one), with OpenSSL's key check: 0.1 s each for 3072 bits."""
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from pyhanko.sign import signers
    from pyhanko.sign.general import get_pyca_cryptography_hash

    class LoadedKeySigner(signers.SimpleSigner):
        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
            if isinstance(key, rsa.RSAPrivateKey) and mechanism.signature_algo == "rsassa_pkcs1v15":
                return key.sign(
                    data, padding.PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm)
                )
            return super().sign_raw(data, digest_algorithm)

    return LoadedKeySigner(**kwargs)


def list_people(site: Site) -> list[RoleKey | dict[str, str]]:
    """Each staff role's signing key, or why it has none (``keys show``)."""
    out: list[RoleKey | dict[str, str]] = []
    for role in site.config.staff:
        try:
            out.append(role_key(site, role))
        except KeysError as exc:
            out.append({"role": role, "person": site.config.staff[role].name, "error": str(exc)})
    return out
