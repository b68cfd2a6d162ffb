"""The S3 side: a boto3 client, errors turned into one line, and the few calls we build on.

boto3 does all of the protocol (SigV4, the multipart requests, retries, the checksum
headers; the push hands it the SHA-256 it already computed); this module only chooses its
settings and says what went wrong in the words of ppe-tech:

- the endpoint cannot be reached: StorageError (exit 3);
- the credentials are missing or refused: KeysError (exit 5);
- the bucket does not exist: ConfigError (exit 2).

Credentials come from the environment only (the variable names are configurable), and
no message ever carries them: botocore's errors name the access key at most, and we
never print its messages as they are.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ppe_tech.errors import ConfigError, KeysError, PpeError, StorageError, VerificationFailed
from ppe_tech.i18n import _

CHUNK = 1024 * 1024
PART_SIZE = 16 * 1024 * 1024  # multipart part size: the composite checksum depends on it
# below this an object goes in one PutObject, streamed from its file, its SHA-256 its only
# checksum (computed once); from it on, multipart (rclone's cut-off is 200 MiB)
SINGLE_PUT_MAX = 64 * 1024 * 1024
META_SHA256 = "sha256"  # user metadata x-amz-meta-sha256: the whole object's SHA-256 (hex)

_AUTH_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "InvalidToken",
    "ExpiredToken",
    "AuthorizationHeaderMalformed",
    "403",
}
_MISSING_BUCKET = {"NoSuchBucket"}


@dataclass(frozen=True)
class Target:
    """Where the hand-over goes: endpoint, bucket, key prefix and the credentials."""

    endpoint: str | None
    bucket: str
    prefix: str = ""
    signing_region: str = "us-east-1"
    access_key: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)

    def key(self, *parts: str) -> str:
        return "/".join(p.strip("/") for p in (self.prefix, *parts) if p.strip("/"))

    def where(self) -> str:
        """``s3://BUCKET (ENDPOINT)``: no word in it, so it reads the same in every language."""
        return f"s3://{self.bucket}" + (f" ({self.endpoint})" if self.endpoint else "")


def credentials_from_env(access_env: str, secret_env: str) -> tuple[str, str]:
    access, secret = os.environ.get(access_env, ""), os.environ.get(secret_env, "")
    if not access or not secret:
        missing = f" {_('and')} ".join(
            n for n, v in ((access_env, access), (secret_env, secret)) if not v
        )
        raise KeysError(
            _("no S3 credentials: set {variables} in the environment").format(variables=missing)
        )
    return access, secret


def client_for(
    endpoint: str | None,
    access_key: str,
    secret_key: str,
    *,
    signing_region: str = "us-east-1",
    retries: int = 4,
    pool: int = 10,
    sign_payload: bool = True,
):
    import boto3
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",
        # Without https botocore signs every body with its SHA-256; the push turns that off
        # for requests whose signed x-amz-checksum-sha256 header already covers the body.
        s3={"addressing_style": "path", "payload_signing_enabled": sign_payload},
        retries={"max_attempts": retries + 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        max_pool_connections=pool,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=signing_region,
        config=config,
    )


def client(target: Target, *, pool: int = 10, sign_payload: bool = True):
    return client_for(
        target.endpoint,
        target.access_key,
        target.secret_key,
        signing_region=target.signing_region,
        pool=pool,
        sign_payload=sign_payload,
    )


def s3_error(exc: BaseException, target: Target, doing: str) -> PpeError:
    """The PpeError for a botocore exception (never with the credentials in it)."""
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

    where = target.endpoint or _("the AWS endpoint")
    if isinstance(exc, NoCredentialsError):
        return KeysError(_("{doing}: no S3 credentials").format(doing=doing))
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _MISSING_BUCKET or (code == "404" and doing == _bucket(target)):
            return ConfigError(
                _("{doing}: bucket {bucket!r} does not exist at {where}").format(
                    doing=doing, bucket=target.bucket, where=where
                )
            )
        if code == "BadDigest":  # the body differs from the SHA-256 sent with it
            return VerificationFailed(
                _(
                    "{doing}: the storage received other bytes than were hashed (BadDigest): "
                    "the file changed while it was being sent"
                ).format(doing=doing)
            )
        if code in _AUTH_CODES:
            return KeysError(
                _("{doing}: the storage refused the credentials ({code})").format(
                    doing=doing, code=code
                )
            )
        return StorageError(
            _("{doing}: the storage answered {code}").format(
                doing=doing, code=code or _("an error")
            )
        )
    if isinstance(exc, EndpointConnectionError) or "Connect" in type(exc).__name__:
        return StorageError(
            _("{doing}: cannot reach the storage at {where}").format(doing=doing, where=where)
        )
    return StorageError(
        _("{doing}: {error} talking to {where}").format(
            doing=doing, error=type(exc).__name__, where=where
        )
    )


def _bucket(target: Target) -> str:
    """What a call on the bucket itself is doing (a 404 of it: the bucket is missing)."""
    return _("bucket {bucket}").format(bucket=target.bucket)


def _object(key: str) -> str:
    return _("object {key}").format(key=key)


def call(target: Target, doing: str, function: Callable[..., Any], /, **kwargs: Any) -> Any:
    """``function(**kwargs)`` with botocore errors turned into one PpeError line."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return function(**kwargs)
    except (BotoCoreError, ClientError) as exc:
        raise s3_error(exc, target, doing) from None


def check_bucket(s3, target: Target) -> bool:
    """Raise when the bucket cannot be used; return whether it has object lock enabled."""
    from botocore.exceptions import ClientError

    call(target, _bucket(target), s3.head_bucket, Bucket=target.bucket)
    try:
        conf = s3.get_object_lock_configuration(Bucket=target.bucket)
    except ClientError:
        return False  # ObjectLockConfigurationNotFoundError (or not supported): no lock
    return conf.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"


def head(s3, target: Target, key: str) -> dict | None:
    """The object's metadata (with its checksum), or None when there is no such object."""
    from botocore.exceptions import ClientError

    try:
        return s3.head_object(Bucket=target.bucket, Key=key, ChecksumMode="ENABLED")
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise s3_error(exc, target, _object(key)) from None


def stored_sha256(meta: dict) -> str | None:
    return (meta.get("Metadata") or {}).get(META_SHA256)


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def s3_checksum(part_digests: list[bytes], *, multipart: bool) -> str:
    """The ChecksumSHA256 S3 reports: of the bytes for a single PUT, composite for multipart."""
    if not multipart:
        return b64(part_digests[0])
    return f"{b64(hashlib.sha256(b''.join(part_digests)).digest())}-{len(part_digests)}"


def iter_object(s3, target: Target, key: str) -> Iterator[bytes]:
    """The object's bytes in chunks of CHUNK (streamed, never held whole)."""
    body = call(target, _object(key), s3.get_object, Bucket=target.bucket, Key=key)["Body"]
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()


def read_object(s3, target: Target, key: str, limit: int = 64 * 1024 * 1024) -> bytes:
    """A small object whole (reports, manifests, the log); refuses anything over ``limit``."""
    out = bytearray()
    for chunk in iter_object(s3, target, key):
        out += chunk
        if len(out) > limit:
            raise VerificationFailed(
                _("object {key} is larger than {limit} bytes").format(key=key, limit=limit)
            )
    return bytes(out)


def hash_object(s3, target: Target, key: str) -> tuple[int, str]:
    """(size, SHA-256 hex) of the object, streamed."""
    digest, size = hashlib.sha256(), 0
    for chunk in iter_object(s3, target, key):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def _listing(prefix: str) -> str:
    return _("listing {prefix}").format(prefix=prefix)


def list_keys(s3, target: Target, prefix: str) -> Iterator[dict]:
    paginator = s3.get_paginator("list_objects_v2")
    pages = call(target, _listing(prefix), paginator.paginate, Bucket=target.bucket, Prefix=prefix)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        for page in pages:
            yield from page.get("Contents", [])
    except (BotoCoreError, ClientError) as exc:
        raise s3_error(exc, target, _listing(prefix)) from None


def list_folders(s3, target: Target, prefix: str) -> list[str]:
    """The next level of 'folders' under ``prefix`` (which ends with '/')."""
    from botocore.exceptions import BotoCoreError, ClientError

    paginator = s3.get_paginator("list_objects_v2")
    names: list[str] = []
    try:
        for page in paginator.paginate(Bucket=target.bucket, Prefix=prefix, Delimiter="/"):
            names += [
                p["Prefix"][len(prefix) :].rstrip("/") for p in page.get("CommonPrefixes", [])
            ]
    except (BotoCoreError, ClientError) as exc:
        raise s3_error(exc, target, _bucket(target)) from None
    return names
