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


async def test_one_shot_upload_url_and_pinned_version_downloads(store: EvidenceStore) -> None:
    body = b"%PDF-1.4 declared"
    key = "evidence/u1/2026-Q1/pinned"
    up = store.presign_upload(
        key, size=len(body), content_type="application/pdf", sha256=hashlib.sha256(body).hexdigest(), ttl_s=60
    )
    async with httpx.AsyncClient() as http:
        assert (await http.put(up.url, content=body, headers=up.headers)).status_code == 200
        assert (await http.put(up.url, content=body, headers=up.headers)).status_code == 412  # once only
        first = await store.stat(key)
        assert first is not None and (first.size, first.content_type) == (len(body), "application/pdf")
        store.client.put_object(store.bucket, key, io.BytesIO(b"later version"), 13)  # past the URL
        url = store.presign_get(
            key, ttl_s=60, filename="报告.pdf", content_type="application/pdf", version_id=first.version_id
        )
        got = await http.get(url)
    assert got.content == body and got.headers["content-type"] == "application/pdf"
    assert (
        got.headers["content-disposition"]
        == "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf"
    )
    assert await store.verify(key, hashlib.sha256(body).hexdigest(), first.version_id)
    await store.remove_version(key, first.version_id)  # governance retention bypassed on purpose
    assert not await store.verify(key, hashlib.sha256(body).hexdigest(), first.version_id)
