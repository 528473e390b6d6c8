"""Evidence storage on a real S3 store: streamed SHA-256, presigned URLs, tamper detection."""

from __future__ import annotations

import hashlib
import io
import os

import httpx

from kaohe.storage import EvidenceStore


async def test_upload_digest_presigned_roundtrip_and_tamper_detection(store: EvidenceStore) -> None:
    payload = os.urandom(6 * 1024 * 1024 + 123)  # larger than one multipart part: streamed in pieces
    stored = await store.put_stream(
        "evidence/u1/2026-Q1/a.pdf", io.BytesIO(payload), content_type="application/pdf"
    )
    assert stored.sha256 == hashlib.sha256(payload).hexdigest()
    assert stored.size == len(payload)
    assert await store.digest(stored.key) == (stored.sha256, len(payload))
    assert await store.verify(stored.key, stored.sha256)

    async with httpx.AsyncClient() as http:
        got = await http.get(store.presign_get(stored.key, ttl_s=60))
        assert got.status_code == 200
        assert hashlib.sha256(got.content).hexdigest() == stored.sha256
        # An unsigned request for the same object is refused: bytes are reachable only through presigning.
        bare = store.presign_get(stored.key, ttl_s=60).split("?", 1)[0]
        assert (await http.get(bare)).status_code == 403

        # A browser-style upload through a presigned PUT, then someone overwrites the object.
        put_url = store.presign_put("evidence/u1/2026-Q1/b.pdf", ttl_s=60)
        original = b"%PDF-1.4 original evidence"
        assert (await http.put(put_url, content=original)).status_code == 200
    key_b = "evidence/u1/2026-Q1/b.pdf"
    digest_b = hashlib.sha256(original).hexdigest()
    assert await store.verify(key_b, digest_b)
    store.client.put_object(store.bucket, key_b, io.BytesIO(b"%PDF-1.4 forged evidence!!"), 26)
    assert not await store.verify(key_b, digest_b)
    assert not await store.verify("evidence/none/missing.pdf", digest_b)
