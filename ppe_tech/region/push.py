"""``region push``: hand an exam's bag, reports and log over to the region's S3 storage.

Per object, in parallel: hash the local bytes (once for an object under SINGLE_PUT_MAX;
a larger one whole and per multipart part) and compare them with the bag manifest or the
store; ask the storage what it has under the key; the same SHA-256 there means done
(nothing sent again), another one means someone changed a file after handing it over, and
the push stops with that key (never overwritten); otherwise boto3's PutObject (streamed
from the file), or UploadPart per part in parallel, sends it with the SHA-256 already
computed for that body (``ChecksumSHA256``, which the storage checks), the whole object's
SHA-256 in its metadata and, where the bucket has
object lock, COMPLIANCE retention until 1 March of the next year. After the upload the
storage's own checksum (of the whole object, or composite of the parts) must equal the
one computed from the local bytes. Each verified object is recorded in the store at once,
so a push killed at any point resumes where it was. The push record
(``handover/TIME.json``) is sent last.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ppe_tech.errors import ConfigError, PpeError, VerificationFailed
from ppe_tech.i18n import _, ngettext
from ppe_tech.region import results
from ppe_tech.region.handover import Handover, Item, plan_handover
from ppe_tech.region.s3 import (
    CHUNK,
    META_SHA256,
    PART_SIZE,
    SINGLE_PUT_MAX,
    Target,
    b64,
    call,
    check_bucket,
    client,
    credentials_from_env,
    hash_object,
    head,
    s3_checksum,
    stored_sha256,
)
from ppe_tech.timeutil import iso, utc_now

if TYPE_CHECKING:
    from ppe_tech.site import Exam, Site


def target_from_site(site: Site, *, bucket: str | None = None) -> Target:
    """The configured storage (``region:`` in ppe.yaml) with credentials from the environment."""
    conf = site.config.region
    bucket = bucket or conf.bucket
    if not bucket:
        raise ConfigError("ppe.yaml: region.bucket is not set (the regional centre gives it)")
    access, secret = credentials_from_env(conf.access_key_env, conf.secret_key_env)
    site.secrets.update({access, secret})  # masked in every message from here on
    return Target(conf.endpoint, bucket, conf.prefix, conf.signing_region, access, secret)


def exam_base(site: Site, target: Target, exam: Exam) -> str:
    """``PREFIX/REGION/POINT/EXAM``: the exam's folder in the bucket."""
    point = site.config.point
    return target.key(point.region or "region", point.code, exam.id)


@dataclass
class PushResult:
    exam_id: str
    location: str
    base_key: str
    push_id: int
    objects: int = 0
    sent: int = 0
    present: int = 0
    total_bytes: int = 0
    sent_bytes: int = 0
    locked_until: str | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        rate = self.sent_bytes / self.seconds if self.seconds > 0 else None
        return {
            "exam_id": self.exam_id,
            "location": self.location,
            "base_key": self.base_key,
            "push_id": self.push_id,
            "objects": self.objects,
            "sent": self.sent,
            "already_there": self.present,
            "total_bytes": self.total_bytes,
            "sent_bytes": self.sent_bytes,
            "locked_until": self.locked_until,
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
            "bytes_per_second": round(rate) if rate else None,
        }


def _source(item: Item):
    return open(item.path, "rb") if item.path else io.BytesIO(item.data or b"")  # noqa: SIM115


def _read_part(item: Item, index: int) -> bytes:
    """Multipart part ``index`` (from 0) of the item's bytes, PART_SIZE at most."""
    with _source(item) as source:
        source.seek(index * PART_SIZE)
        return source.read(PART_SIZE)


def multipart(item: Item) -> bool:
    return item.size >= SINGLE_PUT_MAX


def local_digests(item: Item) -> tuple[str, list[bytes]]:
    """SHA-256 (hex) of the item's bytes and the digest of each multipart part, in one pass
    (an item sent in one request is its own one part: hashed once)."""
    whole, parts = hashlib.sha256(), []
    with _source(item) as source:
        if not multipart(item):
            while chunk := source.read(CHUNK):
                whole.update(chunk)
            return whole.hexdigest(), [whole.digest()]
        while True:
            part, filled = hashlib.sha256(), 0
            while filled < PART_SIZE and (chunk := source.read(min(CHUNK, PART_SIZE - filled))):
                whole.update(chunk)
                part.update(chunk)
                filled += len(chunk)
            if filled or not parts:
                parts.append(part.digest())
            if filled < PART_SIZE:
                return whole.hexdigest(), parts


@dataclass
class Outcome:
    item: Item
    key: str
    outcome: str  # sent | present
    version_id: str | None


class Pusher:
    """One push: the client, the lock, progress callbacks; ``one(item)`` runs in a worker."""

    def __init__(
        self,
        s3,
        target: Target,
        *,
        base: str,
        locked: bool,
        retain_until,
        on_bytes: Callable[[int], None] | None,
        workers: int,
    ) -> None:
        self.s3, self.target, self.base, self.locked = s3, target, base, locked
        # Bodies go out through a client that does not hash them again for SigV4 over https
        # (botocore signs payloads over plain http whatever the setting): each carries its
        # SHA-256 in a signed header, which the storage checks against it.
        self.data = client(target, pool=workers * 2, sign_payload=False)
        self.part_pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="region-part")
        self.retain_until = retain_until
        self.on_bytes = on_bytes or (lambda n: None)
        self.stop = threading.Event()
        self.sent_bytes = 0
        self._lock = threading.Lock()

    def _count(self, n: int) -> None:
        with self._lock:
            self.sent_bytes += n
        self.on_bytes(n)

    def close(self) -> None:
        self.part_pool.shutdown(wait=True, cancel_futures=True)

    def one(self, item: Item) -> Outcome:
        if self.stop.is_set():
            raise InterruptedError
        key = f"{self.base}/{item.key}"
        digest, parts = local_digests(item)
        if digest != item.sha256:
            where = item.path or item.key
            raise VerificationFailed(
                f"{where} changed on the point: its SHA-256 differs from the one recorded "
                f"({'the bag manifest' if item.kind == 'bag' else 'the store'}); nothing sent"
            )
        there = head(self.s3, self.target, key)
        if there is not None:
            return self._already(item, key, there)
        self._upload(item, key, parts)
        there = head(self.s3, self.target, key)
        self._verify(item, key, there, s3_checksum(parts, multipart=multipart(item)))
        return Outcome(item, key, "sent", (there or {}).get("VersionId"))

    def _already(self, item: Item, key: str, there: dict) -> Outcome:
        if stored_sha256(there) != item.sha256 or there.get("ContentLength") != item.size:
            raise VerificationFailed(
                f"refusing to overwrite {key}: the storage holds other bytes (SHA-256 "
                f"{stored_sha256(there) or 'unknown'}, point {item.sha256}); a file was changed "
                f"on the point after it was handed over"
            )
        self.on_bytes(item.size)
        return Outcome(item, key, "present", there.get("VersionId"))

    def _upload(self, item: Item, key: str, parts: list[bytes]) -> None:
        """Send the bytes with each part's SHA-256 from ``local_digests``: hashed once.

        The storage checks every request's body against its ``x-amz-checksum-sha256``
        (signed with the request), so bytes that changed since they were hashed are
        refused, and a multipart upload that fails is aborted: nothing half-sent stays.
        """
        common: dict[str, Any] = {
            "Bucket": self.target.bucket,
            "Key": key,
            "Metadata": {META_SHA256: item.sha256},
        }
        if self.locked:
            common.update(ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=self.retain_until)
        doing = _("upload of {key}").format(key=key)
        if not multipart(item):
            with _source(item) as body:  # streamed: boto3 reads it as it sends
                call(
                    self.target,
                    doing,
                    self.data.put_object,
                    Body=body,
                    **common,
                    ChecksumSHA256=b64(parts[0]),
                )
            self._count(item.size)
            return
        upload_id = call(
            self.target,
            doing,
            self.s3.create_multipart_upload,
            ChecksumAlgorithm="SHA256",
            **common,
        )["UploadId"]
        ids = {"Bucket": self.target.bucket, "Key": key, "UploadId": upload_id}
        sent = []
        try:
            sent = [
                self.part_pool.submit(self._part, item, doing, ids, number, digest)
                for number, digest in enumerate(parts, 1)
            ]
            done = [future.result() for future in sent]
            call(
                self.target,
                doing,
                self.s3.complete_multipart_upload,
                **ids,
                MultipartUpload={"Parts": done},
            )
        except BaseException:
            # the parts not yet started are not sent; those in flight end before the abort,
            # so none of them lands after it
            for future in sent:
                future.cancel()
            wait(sent)
            with contextlib.suppress(Exception):
                self.s3.abort_multipart_upload(**ids)
            raise

    def _part(self, item: Item, doing: str, ids: dict, number: int, digest: bytes) -> dict:
        if self.stop.is_set():
            raise InterruptedError
        body = _read_part(item, number - 1)
        checksum = b64(digest)
        answer = call(
            self.target,
            doing,
            self.data.upload_part,
            **ids,
            PartNumber=number,
            Body=body,
            ChecksumSHA256=checksum,
        )
        self._count(len(body))
        return {"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": checksum}

    def _verify(self, item: Item, key: str, there: dict | None, checksum: str) -> None:
        if there is None:
            raise VerificationFailed(f"{key}: not in the storage after its upload")
        reported = there.get("ChecksumSHA256")
        if reported is None:  # the storage keeps no checksum: read the object back
            size, digest = hash_object(self.s3, self.target, key)
            ok = (size, digest) == (item.size, item.sha256)
        else:
            ok = reported == checksum and there.get("ContentLength") == item.size
        if not ok or stored_sha256(there) != item.sha256:
            raise VerificationFailed(
                f"{key}: the storage's checksum differs from the point's after upload"
            )


def _run(
    pusher: Pusher,
    conn: sqlite3.Connection,
    push_id: int,
    items: list[Item],
    *,
    workers: int,
    result: PushResult,
) -> None:
    """Every item through ``pusher.one`` in ``workers`` threads; record each as it is done."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="region-push")
    try:
        pending = {pool.submit(pusher.one, item) for item in items}
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    pusher.stop.set()
                    raise future.exception()  # type: ignore[misc]
                out = future.result()
                results.record_object(
                    conn,
                    push_id,
                    key=out.key,
                    kind=out.item.kind,
                    size=out.item.size,
                    sha256=out.item.sha256,
                    version_id=out.version_id,
                    outcome=out.outcome,
                )
                result.sent += out.outcome == "sent"
                result.present += out.outcome == "present"
    except BaseException:
        pusher.stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def abort_stale_uploads(s3, target: Target, base: str) -> int:
    """Abort multipart uploads a killed push left under the exam's folder (they hold space)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        uploads = s3.list_multipart_uploads(Bucket=target.bucket, Prefix=base + "/").get(
            "Uploads", []
        )
        for up in uploads:
            s3.abort_multipart_upload(Bucket=target.bucket, Key=up["Key"], UploadId=up["UploadId"])
    except (BotoCoreError, ClientError):
        return 0  # best effort: the storage may not list them
    return len(uploads)


def push_exam(
    site: Site,
    conn: sqlite3.Connection,
    exam: Exam,
    target: Target,
    *,
    on_total: Callable[[int], None] | None = None,
    on_bytes: Callable[[int], None] | None = None,
    log: Callable[[str], None] | None = None,
    workers: int = 4,
) -> PushResult:
    """Push one exam's hand-over; raises a PpeError (and records why) when it cannot finish."""
    log = log or (lambda line: None)
    started = time.perf_counter()
    s3 = client(target, pool=workers * 2)
    locked = check_bucket(s3, target)
    handover = plan_handover(site, conn, exam)
    base = exam_base(site, target, exam)
    result = PushResult(
        exam.id,
        target.where(),
        base,
        0,
        objects=len(handover.items) + 1,
        total_bytes=handover.total_bytes,
        locked_until=iso(handover.retain_until) if locked else None,
    )
    if not handover.bags:
        result.warnings.append(
            _("exam {exam}: no archive bag yet (ppe-tech recordings archive)").format(exam=exam.id)
        )
        log(_("warning") + ": " + result.warnings[-1])
    if not locked:
        result.warnings.append(
            _(
                "bucket {bucket} has no object lock: what is handed over can still be deleted or "
                "rewritten by anyone with write access; ask the regional centre for a bucket with "
                "object lock"
            ).format(bucket=target.bucket)
        )
        log(_("warning") + ": " + result.warnings[-1])
    result.push_id = results.start_push(
        conn,
        exam_id=exam.id,
        endpoint=target.endpoint or "",
        bucket=target.bucket,
        base_key=base,
        objects=result.objects,
        total_bytes=result.total_bytes,
        locked_until=result.locked_until,
    )
    if on_total:
        on_total(handover.total_bytes)
    pusher = Pusher(
        s3,
        target,
        base=base,
        locked=locked,
        retain_until=handover.retain_until,
        on_bytes=on_bytes,
        workers=workers,
    )
    if aborted := abort_stale_uploads(s3, target, base):
        aborted_line = ngettext(
            "aborted {n} unfinished upload of an earlier push",
            "aborted {n} unfinished uploads of an earlier push",
            aborted,
        )
        log(_("region") + ": " + aborted_line.format(n=aborted))
    try:
        _finish(site, conn, pusher, handover, result, workers=workers, locked=locked)
    finally:
        pusher.close()
    result.seconds = time.perf_counter() - started
    return result


def _finish(
    site: Site,
    conn: sqlite3.Connection,
    pusher: Pusher,
    handover: Handover,
    result: PushResult,
    *,
    workers: int,
    locked: bool,
) -> None:
    status, message = "failed", ""
    try:
        _run(pusher, conn, result.push_id, handover.items, workers=workers, result=result)
        record = handover.record(site, pushed_at=utc_now(), locked=locked)
        _run(pusher, conn, result.push_id, [record], workers=1, result=result)
        result.total_bytes += record.size
        status = "complete"
    except VerificationFailed as exc:
        status, message = "refused", exc.message
        raise
    except PpeError as exc:
        message = exc.message
        raise
    except (KeyboardInterrupt, InterruptedError):
        status, message = "interrupted", "interrupted"
        raise
    finally:
        result.sent_bytes = pusher.sent_bytes
        results.finish_push(
            conn,
            result.push_id,
            status=status,
            sent_bytes=pusher.sent_bytes,
            message=site.redact(message),
        )
