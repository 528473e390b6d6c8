"""Evidence storage (佐证材料) on the S3 API through minio-py.

minio-py is synchronous: every call runs in a small thread pool. It does not send content checksums,
so SHA-256 is computed here while streaming, stored by the caller, and checked again on verification.
Presigned URLs are signed by a client built with the public endpoint and an explicit region, so no
network call is needed to sign and the URL's host is the one browsers reach.
"""

from __future__ import annotations

import asyncio
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import BinaryIO
from urllib.parse import urlparse

from minio import Minio
from minio.commonconfig import ENABLED, GOVERNANCE, Tags
from minio.error import S3Error
from minio.objectlockconfig import DAYS, ObjectLockConfig
from minio.retention import Retention
from minio.versioningconfig import VersioningConfig

PART_SIZE = 8 * 1024 * 1024


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
        return self.signer.presigned_put_object(self.bucket, key, expires=timedelta(seconds=ttl_s))

    def presign_get(self, key: str, *, ttl_s: int = 300, filename: str | None = None) -> str:
        headers = {"response-content-disposition": f'attachment; filename="{filename}"'} if filename else None
        return self.signer.presigned_get_object(
            self.bucket, key, expires=timedelta(seconds=ttl_s), response_headers=headers
        )

    async def digest(self, key: str) -> tuple[str, int]:
        """SHA-256 and size of the stored bytes, read back from the store."""

        def work() -> tuple[str, int]:
            h, size = hashlib.sha256(), 0
            resp = self.client.get_object(self.bucket, key)
            try:
                for chunk in resp.stream(1024 * 1024):
                    h.update(chunk)
                    size += len(chunk)
            finally:
                resp.close()
                resp.release_conn()
            return h.hexdigest(), size

        return await self._run(work)

    async def verify(self, key: str, expected_sha256: str) -> bool:
        """True when the stored bytes still hash to `expected_sha256`."""
        try:
            actual, _ = await self.digest(key)
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

    async def lock(self, key: str, *, days: int = 3650) -> bool:
        """Make an approved object immutable (object-lock retention) where the store supports it."""
        if not self.object_lock:
            return False
        until = datetime.now(UTC) + timedelta(days=days)
        try:
            await self._run(self.client.set_object_retention, self.bucket, key, Retention(GOVERNANCE, until))
            return True
        except S3Error:
            return False

    def close(self) -> None:
        self._pool.shutdown(wait=False)
