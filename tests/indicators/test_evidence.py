"""Evidence (佐证材料): presigned upload, SHA-256 check, tamper detection, lock on approval, scoped reads."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import httpx
import pytest

from kaohe.errors import KaoheError
from kaohe.identity import Role
from tests.support.indicators import OFFICE, Running, caller, published_city

REPORTER = caller(Role.reporter, org="/14/1405/140502/", user="chengqu")
DEPT = caller(Role.department, org="/14/1405/", user="fagai", codes=("K0101",))
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def request(svc: Running, sub_id: str, body: bytes, **kw: Any) -> dict[str, Any]:
    params = dict(filename="报告.pdf", content_type="application/pdf", size=len(body))
    params.update(sha256=hashlib.sha256(body).hexdigest(), **kw)
    return dict(await svc.call("evidence_upload_url", DEPT, submission_id=sub_id, **params))


async def upload(svc: Running, sub_id: str, body: bytes) -> str:
    """Declare, then PUT to the presigned URL with the headers it was signed with (K0101 is DEPT's)."""
    up = await request(svc, sub_id, body)
    async with httpx.AsyncClient() as http:
        r = await http.put(up["upload_url"], content=body, headers=up["upload_headers"])
        assert r.status_code == 200, r.text
    return str(up["evidence_id"])


async def department_submission(svc: Running) -> dict:
    # K0101 is the 发改委's indicator (source department) and requires evidence
    return await svc.call(
        "submission_create", DEPT, unit_id="140502", indicator_code="K0101", period="2026-Q1", value=6.3
    )


async def test_upload_confirm_approve_locks_and_downloads_only_in_scope(svc: Running) -> None:
    await published_city(svc)
    sub = await department_submission(svc)
    with pytest.raises(KaoheError) as e:  # required evidence is missing
        await svc.call("submission_approve", DEPT, submission_id=sub["id"])
    assert e.value.code == "evidence_missing"
    eid = await upload(svc, sub["id"], PDF)
    with pytest.raises(KaoheError) as e:  # uploaded but not yet confirmed
        await svc.call("submission_approve", DEPT, submission_id=sub["id"])
    assert e.value.code == "evidence_unverified"
    ev = await svc.call("evidence_confirm", DEPT, evidence_id=eid)
    assert ev["status"] == "verified" and ev["sha256"] == hashlib.sha256(PDF).hexdigest()
    dl = await svc.call("evidence_download_url", REPORTER, evidence_id=eid)
    async with httpx.AsyncClient() as http:
        assert (await http.get(dl["download_url"])).content == PDF
    approved = await svc.call("submission_approve", DEPT, submission_id=sub["id"])
    assert approved["status"] == "approved"
    [locked] = (await svc.call("evidence_by_units", REPORTER, ids=["140502"]))["140502"]
    assert locked["locked"] is True and locked["download_url"]
    with pytest.raises(KaoheError) as e:  # approved data and its evidence are immutable
        await upload(svc, sub["id"], PDF)
    assert e.value.code == "submission_locked"
    if svc.rt.store is not None and svc.rt.store.object_lock:
        # object lock: the store itself refuses to delete the locked version
        from minio.error import S3Error

        store = svc.rt.store
        stat = await store._run(store.client.stat_object, store.bucket, f"evidence/140502/2026-Q1/{eid}")
        with pytest.raises(S3Error):
            await store._run(
                store.client.remove_object,
                store.bucket,
                f"evidence/140502/2026-Q1/{eid}",
                version_id=stat.version_id,
            )
    zezhou = caller(Role.reporter, Role.department, Role.assessment_office, org="/14/1405/140525/")
    for method in ("evidence_download_url", "evidence_confirm", "evidence_verify"):
        with pytest.raises(KaoheError) as e:
            await svc.call(method, zezhou, evidence_id=eid)
        assert e.value.code == "not_found", method
    with pytest.raises(KaoheError) as e:
        await svc.call(
            "evidence_upload_url",
            zezhou,
            submission_id=sub["id"],
            filename="a.pdf",
            content_type="application/pdf",
            size=3,
            sha256="0" * 64,
        )
    assert e.value.code == "not_found"
    assert await svc.call("evidence_by_units", zezhou, ids=["140502"]) == {}


async def test_tampered_bytes_are_detected_on_confirm_and_before_approval(svc: Running) -> None:
    await published_city(svc)
    sub = await department_submission(svc)
    store = svc.rt.store
    assert store is not None
    # declared digest of one file, other bytes stored (written past the presigned URL, which the store
    # would refuse): refused on confirm, and the object is deleted
    up = await request(svc, sub["id"], PDF)
    other = PDF.replace(b"1.4", b"1.7")
    key = f"evidence/140502/2026-Q1/{up['evidence_id']}"
    await store._run(
        store.client.put_object, store.bucket, key, io.BytesIO(other), len(other), "application/pdf"
    )
    with pytest.raises(KaoheError) as e:
        await svc.call("evidence_confirm", DEPT, evidence_id=up["evidence_id"])
    assert (e.value.code, e.value.field) == ("evidence_digest_mismatch", "sha256")
    assert await store.stat(key) is None
    sub2 = await svc.call(
        "submission_create", DEPT, unit_id="140502", indicator_code="K0101", period="2026-Q2", value=6.1
    )
    eid = await upload(svc, sub2["id"], PDF)
    assert (await svc.call("evidence_confirm", DEPT, evidence_id=eid))["status"] == "verified"
    # the pinned version is deleted behind the service's back (an admin bypassing governance retention)
    key2 = f"evidence/140502/2026-Q2/{eid}"
    pinned = await store.stat(key2)
    assert pinned is not None and pinned.version_id
    await store.remove_version(key2, pinned.version_id)
    forged = PDF.replace(b"obj", b"OBJ")
    await store._run(store.client.put_object, store.bucket, key2, io.BytesIO(forged), len(forged))
    with pytest.raises(KaoheError) as e:
        await svc.call("submission_approve", DEPT, submission_id=sub2["id"])
    assert e.value.code == "evidence_digest_mismatch"
    state = await svc.call("submission_get", OFFICE, submission_id=sub2["id"])
    assert state["status"] == "submitted"
    assert [x["status"] for x in state["evidence"]] == ["tampered"]
    assert (await svc.call("evidence_verify", DEPT, evidence_id=eid))["status"] == "tampered"
    with pytest.raises(KaoheError) as e:
        await svc.call("evidence_download_url", REPORTER, evidence_id=eid)
    assert e.value.code == "evidence_unverified"


async def test_type_and_size_limits(svc: Running) -> None:
    await published_city(svc)
    sub = await department_submission(svc)
    with pytest.raises(KaoheError) as e:
        await svc.call(
            "evidence_upload_url",
            REPORTER,
            submission_id=sub["id"],
            filename="x.exe",
            content_type="application/x-msdownload",
            size=10,
            sha256="0" * 64,
        )
    assert e.value.code == "validation_failed" and e.value.field == "content_type"
    with pytest.raises(KaoheError) as e:
        await svc.call(
            "evidence_upload_url",
            REPORTER,
            submission_id=sub["id"],
            filename="big.zip",
            content_type="application/zip",
            size=300 * 1024 * 1024,
            sha256="0" * 64,
        )
    assert e.value.code == "evidence_too_large"
