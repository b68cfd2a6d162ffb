"""Keys on a PKCS#11 token (a USB token, an HSM; SoftHSM2 in the tests) through python-pkcs11.

The private key never leaves the token: pyHanko's ``PKCS11Signer`` asks the token to sign.
Every token problem (module cannot load, no such token, wrong PIN, no such key) is one
``KeysError`` line (exit 5). python-pkcs11 and pyHanko's pkcs11 module are imported here
only, when a token is used, so ``ppe-tech --help`` does not load them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ppe_tech.errors import KeysError
from ppe_tech.i18n import _
from ppe_tech.keys import to_asn1_cert


@dataclass(frozen=True)
class TokenRef:
    """Where a key on a PKCS#11 token is: the module (.so/.dll), token label, key label."""

    module: str
    token: str
    key: str

    def to_json(self) -> dict[str, str]:
        return {"module": self.module, "token": self.token, "key": self.key}


@contextmanager
def session(ref: TokenRef, pin: bytes) -> Iterator[Any]:
    """An open, logged-in session on the token ``ref.token`` of ``ref.module``."""
    import pkcs11
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.pkcs11 import open_pkcs11_session

    try:
        sess = open_pkcs11_session(
            ref.module, token_criteria=TokenCriteria(label=ref.token), user_pin=pin.decode()
        )
    except OSError as exc:
        raise KeysError(
            _("PKCS#11 module {module} cannot be loaded: {reason}").format(
                module=ref.module, reason=exc
            )
        ) from None
    except pkcs11.PinIncorrect:
        raise KeysError(_("wrong PIN for token {token}").format(token=ref.token)) from None
    except pkcs11.PKCS11Error as exc:
        reason = str(exc) or type(exc).__name__
        raise KeysError(
            _("PKCS#11 token {token} ({module}): {reason}").format(
                token=ref.token, module=ref.module, reason=reason
            )
        ) from None
    try:
        yield sess
    finally:
        sess.close()


def _one(sess: Any, object_class: Any, label: str) -> Any | None:
    import pkcs11

    query = {pkcs11.Attribute.CLASS: object_class, pkcs11.Attribute.LABEL: label}
    found = list(sess.get_objects(query))
    return found[0] if found else None


def token_certificate(sess: Any, label: str) -> bytes | None:
    """DER of the certificate stored on the token under ``label``, None when there is none."""
    import pkcs11

    cert = _one(sess, pkcs11.ObjectClass.CERTIFICATE, label)
    if _one(sess, pkcs11.ObjectClass.PRIVATE_KEY, label) is None:
        raise KeysError(_("the token holds no private key labelled {label!r}").format(label=label))
    return bytes(cert[pkcs11.Attribute.VALUE]) if cert is not None else None


def public_key(sess: Any, label: str) -> Any:
    """The token's public key ``label`` as a cryptography key (RSA), to issue a certificate."""
    import pkcs11
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = _one(sess, pkcs11.ObjectClass.PUBLIC_KEY, label)
    if key is None:
        raise KeysError(
            _(
                "the token holds no public key labelled {label!r}: store the certificate on the "
                "token under the key's label, or its public key"
            ).format(label=label)
        )
    if key[pkcs11.Attribute.KEY_TYPE] != pkcs11.KeyType.RSA:
        raise KeysError(
            _(
                "key {label!r} is not RSA: put its certificate on the token under the same label"
            ).format(label=label)
        )
    exponent = int.from_bytes(bytes(key[pkcs11.Attribute.PUBLIC_EXPONENT]), "big")
    modulus = int.from_bytes(bytes(key[pkcs11.Attribute.MODULUS]), "big")
    return rsa.RSAPublicNumbers(exponent, modulus).public_key()


@contextmanager
def signer(ref: TokenRef, pin: bytes, cert: Any, issuers: list[Any]) -> Iterator[Any]:
    """pyHanko's ``PKCS11Signer`` for the token's key, with the certificate kept in the site."""
    import pkcs11
    from pyhanko.sign.pkcs11 import PKCS11Signer

    with session(ref, pin) as sess:
        if _one(sess, pkcs11.ObjectClass.PRIVATE_KEY, ref.key) is None:
            raise KeysError(
                _("token {token} holds no private key labelled {label!r}").format(
                    token=ref.token, label=ref.key
                )
            )
        yield PKCS11Signer(
            sess,
            key_label=ref.key,
            signing_cert=to_asn1_cert(cert),
            ca_chain=[to_asn1_cert(c) for c in issuers],
            embed_roots=False,
        )
