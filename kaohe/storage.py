"""Evidence storage (佐证材料) on the S3 API through minio-py.

minio-py is synchronous: every call runs in a small thread pool. It does not send content checksums,
so SHA-256 is computed here while streaming, stored by the caller, and checked again on verification.
Presigned URLs are signed by a client built with the public endpoint and an explicit region, so no
network call is needed to sign and the URL's host is the one browsers reach.

Evidence uploads are presigned with the declared length, type and SHA-256 as signed headers plus
`If-None-Match: *` (see `presign_put`): the store refuses other bytes, and a second PUT to the same URL once
the object exists. Downloads name one version id: S3 versions are immutable, so a later version at the key
never changes what a pinned URL serves.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import BinaryIO
from urllib.parse import quote, urlparse

from minio import Minio
from minio.commonconfig import ENABLED, GOVERNANCE, Tags
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from minio.objectlockconfig import DAYS, ObjectLockConfig
from minio.retention import Retention
from minio.versioningconfig import VersioningConfig

PART_SIZE = 8 * 1024 * 1024


@dataclass(frozen=True)
class ObjectInfo:
    """One stored version of an object as the store reports it."""

    size: int
    content_type: str
    version_id: str | None


@dataclass(frozen=True)
class PresignedPut:
    """A presigned PUT and the headers the client must send with it (they are part of the signature)."""

    url: str
    headers: dict[str, str]


def content_disposition(filename: str) -> str:
    """RFC 6266 `attachment` with an ASCII fallback and the exact UTF-8 name (RFC 8187 `filename*`).

    Callers pass validated names (no quotes, backslashes, control or bidi characters); the fallback still
    keeps only safe ASCII so nothing can close the quoted string."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "._- ()[]") else "_" for c in filename)
    return f"attachment; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _presign_v4(
    method: str,
    endpoint: str,
    path: str,
    *,
    access_key: str,
    secret_key: str,
    region: str,
    expires_s: int,
    headers: dict[str, str],
) -> str:
    """An AWS SigV4 query-string URL whose signature covers `headers` too.

    minio-py presigns only the host header; signing Content-Length, Content-Type, the checksum and
    If-None-Match makes the store refuse a request whose headers differ (SignatureDoesNotMatch)."""
    u = urlparse(endpoint)
    now = datetime.now(UTC)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    scope = f"{day}/{region}/s3/aws4_request"
    signed = {k.lower(): v.strip() for k, v in headers.items()} | {"host": u.netloc}
    names = ";".join(sorted(signed))
    query = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{access_key}/{scope}",
        "X-Amz-Date": amz_date,
        "X-Amz-Expires": str(expires_s),
        "X-Amz-SignedHeaders": names,
    }
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items())
    )
    canonical_path = quote(path, safe="-_.~/")
    canonical_headers = "".join(f"{k}:{signed[k]}\n" for k in sorted(signed))
    request = "\n".join(
        (method, canonical_path, canonical_query, canonical_headers, names, "UNSIGNED-PAYLOAD")
    )
    to_sign = "\n".join(("AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(request.encode()).hexdigest()))
    key = ("AWS4" + secret_key).encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{u.scheme}://{u.netloc}{canonical_path}?{canonical_query}&X-Amz-Signature={signature}"


@dataclass(frozen=True)
class StoredObject:
    key: str
    sha256: str
    size: int
    etag: str


class _HashingReader:
    """Wraps a readable stream, hashing and counting what passes through."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        chunk = self.raw.read(n)
        self.hash.update(chunk)
        self.size += len(chunk)
        return chunk


def _client(endpoint: str, access_key: str, secret_key: str, region: str) -> Minio:
    u = urlparse(endpoint)
    return Minio(
        u.netloc, access_key=access_key, secret_key=secret_key, secure=u.scheme == "https", region=region
    )


class EvidenceStore:
    def __init__(
        self,
        *,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        region: str = "us-east-1",
        public_endpoint: str | None = None,
        workers: int = 8,
    ) -> None:
        self.bucket = bucket
        self.client = _client(endpoint, access_key, secret_key, region)
        self.signer = _client(public_endpoint or endpoint, access_key, secret_key, region)
        self._signing = (public_endpoint or endpoint, access_key, secret_key, region)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="s3")
        self.object_lock = False

    async def _run(self, fn, *args, **kw):  # type: ignore[no-untyped-def]
        return await asyncio.get_running_loop().run_in_executor(self._pool, lambda: fn(*args, **kw))

    async def ensure_bucket(self) -> None:
        """Create the bucket with versioning and object lock (only possible at creation) if missing."""

        def work() -> bool:
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket, object_lock=True)
                except S3Error as e:
                    if e.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
            try:
                cfg = self.client.get_object_lock_config(self.bucket)
                if cfg is not None and cfg.mode is None:
                    self.client.set_object_lock_config(self.bucket, ObjectLockConfig(GOVERNANCE, 3650, DAYS))
                return True
            except S3Error:
                self.client.set_bucket_versioning(self.bucket, VersioningConfig(ENABLED))
                return False

        self.object_lock = await self._run(work)

    async def ping(self) -> None:
        await self._run(self.client.bucket_exists, self.bucket)

    async def put_stream(
        self, key: str, stream: BinaryIO, *, content_type: str = "application/octet-stream", length: int = -1
    ) -> StoredObject:
        """Stream an object of unknown length to the store, hashing it on the way."""
        reader = _HashingReader(stream)
        res = await self._run(
            self.client.put_object,
            self.bucket,
            key,
            reader,
            length,
            content_type=content_type,
            part_size=PART_SIZE,
        )
        digest = reader.hash.hexdigest()
        tags = Tags.new_object_tags()
        tags["sha256"] = digest
        await self._run(self.client.set_object_tags, self.bucket, key, tags)
        return StoredObject(key, digest, reader.size, res.etag)

    def presign_put(self, key: str, *, ttl_s: int = 300) -> str:
        """A plain presigned PUT (bulk-import files, checked by the import itself)."""
        return self.signer.presigned_put_object(self.bucket, key, expires=timedelta(seconds=ttl_s))

    def presign_upload(
        self, key: str, *, size: int, content_type: str, sha256: str, ttl_s: int = 300
    ) -> PresignedPut:
        """A presigned PUT that only the declared file can use, once.

        Content-Length and Content-Type are signed, so other sizes or types fail the signature;
        x-amz-checksum-sha256 makes the store hash the body and refuse other bytes (BadDigest); and
        `If-None-Match: *` makes every PUT after the first fail (412) while the object exists."""
        endpoint, access_key, secret_key, region = self._signing
        headers = {
            "Content-Length": str(size),
            "Content-Type": content_type,
            "If-None-Match": "*",
            "x-amz-checksum-sha256": base64.b64encode(bytes.fromhex(sha256)).decode(),
        }
        url = _presign_v4(
            "PUT",
            endpoint,
            f"/{self.bucket}/{key}",
            access_key=access_key,
            secret_key=secret_key,
            region=region,
            expires_s=ttl_s,
            headers=headers,
        )
        return PresignedPut(url, {k: v for k, v in headers.items() if k != "Content-Length"})

    def presign_get(
        self,
        key: str,
        *,
        ttl_s: int = 300,
        filename: str | None = None,
        content_type: str | None = None,
        version_id: str | None = None,
    ) -> str:
        """A presigned GET (of one version when `version_id` is given) served as an attachment.

        S3 lets a presigned GET override only Content-Type, Content-Disposition and a few caching
        headers; `X-Content-Type-Options: nosniff` cannot be set this way (SeaweedFS and MinIO alike),
        so downloads are attachments with the declared type instead."""
        headers: dict[str, str | list[str] | tuple[str]] = {}
        if filename:
            headers["response-content-disposition"] = content_disposition(filename)
        if content_type:
            headers["response-content-type"] = content_type
        return self.signer.presigned_get_object(
            self.bucket,
            key,
            expires=timedelta(seconds=ttl_s),
            response_headers=headers or None,
            version_id=version_id,
        )

    async def stat(self, key: str) -> ObjectInfo | None:
        """Size, type and version id of the current version, or None when there is none."""
        try:
            st = await self._run(self.client.stat_object, self.bucket, key)
        except S3Error as e:
            if e.code in ("NoSuchKey", "NotFound", "NoSuchVersion"):
                return None
            raise
        return ObjectInfo(int(st.size or 0), st.content_type or "", st.version_id)

    async def digest(self, key: str, version_id: str | None = None) -> tuple[str, int]:
        """SHA-256 and size of the stored bytes (of one version if given), read back from the store."""

        def work() -> tuple[str, int]:
            h, size = hashlib.sha256(), 0
            resp = self.client.get_object(self.bucket, key, version_id=version_id)
            try:
                for chunk in resp.stream(1024 * 1024):
                    h.update(chunk)
                    size += len(chunk)
            finally:
                resp.close()
                resp.release_conn()
            return h.hexdigest(), size

        return await self._run(work)

    async def remove_version(self, key: str, version_id: str | None) -> None:
        """Delete one version for good (bypassing the bucket's default governance retention)."""

        def work() -> None:
            errors = list(
                self.client.remove_objects(
                    self.bucket, [DeleteObject(key, version_id)], bypass_governance_mode=True
                )
            )
            if errors:
                raise RuntimeError(f"could not delete {key}: {errors[0].code}")

        await self._run(work)

    async def verify(self, key: str, expected_sha256: str, version_id: str | None = None) -> bool:
        """True when the stored bytes (of one version if given) still hash to `expected_sha256`."""
        try:
            actual, _ = await self.digest(key, version_id)
        except S3Error:
            return False
        return actual == expected_sha256

    async def size_of(self, key: str) -> int | None:
        try:
            st = await self._run(self.client.stat_object, self.bucket, key)
        except S3Error as e:
            if e.code in ("NoSuchKey", "NotFound"):
                return None
            raise
        return int(st.size or 0)

    async def lock(self, key: str, *, days: int = 3650, version_id: str | None = None) -> bool:
        """Keep an approved version from deletion (object-lock retention) where the store supports it."""
        if not self.object_lock:
            return False
        until = datetime.now(UTC) + timedelta(days=days)
        try:
            await self._run(
                self.client.set_object_retention,
                self.bucket,
                key,
                Retention(GOVERNANCE, until),
                version_id=version_id,
            )
            return True
        except S3Error:
            return False

    def close(self) -> None:
        self._pool.shutdown(wait=False)
