"""Issued files in the S3 store: written once (`If-None-Match: *`, the store refuses a second write to the
key), kept (object-lock retention where the store has it), served by version id (what was issued is what
a download returns, whatever is written at the key later), with the SHA-256 recorded at issue."""

from __future__ import annotations

import hashlib

import httpx

from kaohe.errors import Conflict
from kaohe.storage import EvidenceStore

TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


async def put_once(store: EvidenceStore, http: httpx.AsyncClient, key: str, data: bytes, fmt: str) -> dict:
    """Write `data` at `key` unless something is there already; the file's record for the document row."""
    sha = hashlib.sha256(data).hexdigest()
    put = store.presign_upload(key, size=len(data), content_type=TYPES[fmt], sha256=sha)
    r = await http.put(put.url, content=data, headers=put.headers)
    if r.status_code == 412:
        raise Conflict(f"{key} exists: an issued document is never overwritten", code="storage_conflict")
    r.raise_for_status()
    version = r.headers.get("x-amz-version-id")
    if version is None:
        info = await store.stat(key)
        version = info.version_id if info else None
    await store.lock(key, version_id=version)
    return {"format": fmt, "key": key, "version_id": version, "sha256": sha, "size": len(data)}


def download_url(store: EvidenceStore, f: dict, filename: str, ttl_s: int) -> str:
    return store.presign_get(
        f["key"],
        ttl_s=ttl_s,
        filename=filename,
        content_type=TYPES[f["format"]],
        version_id=f.get("version_id"),
    )
