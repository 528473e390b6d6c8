"""Approved evidence stays what was approved (issue 9, item 1): one-shot upload URLs signed with the declared
length, type and SHA-256; the verified version pinned and served; safe filenames and downloads."""

from __future__ import annotations

import hashlib
import io
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from kaohe.errors import KaoheError
from kaohe.identity import Role
from tests.support.indicators import Running, caller, published_city

DEPT = caller(Role.department, org="/14/1405/", user="fagai", codes=("K0101",))
REPORTER = caller(Role.reporter, org="/14/1405/140502/", user="chengqu")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def k0101(svc: Running, period: str = "2026-Q1") -> str:
    sub = await svc.call(
        "submission_create", DEPT, unit_id="140502", indicator_code="K0101", period=period, value=6.3
    )
    return str(sub["id"])


async def declare(svc: Running, sub_id: str, body: bytes, **kw: Any) -> dict[str, Any]:
    params: dict[str, Any] = dict(filename="报告.pdf", content_type="application/pdf", size=len(body))
    params.update(sha256=hashlib.sha256(body).hexdigest(), **kw)
    return dict(await svc.call("evidence_upload_url", DEPT, submission_id=sub_id, **params))


async def test_a_second_put_to_the_upload_url_never_changes_approved_evidence(svc: Running) -> None:
    await published_city(svc)
    sid = await k0101(svc)
    up = await declare(svc, sid, PDF)
    forged = PDF.replace(b"obj", b"OBJ")  # same length, other bytes
    signed = up.get("upload_headers", {})  # (before the fix there were none)
    async with httpx.AsyncClient() as http:
        assert (await http.put(up["upload_url"], content=PDF, headers=signed)).status_code == 200
        await svc.call("evidence_confirm", DEPT, evidence_id=up["evidence_id"])
        approved = await svc.call("submission_approve", DEPT, submission_id=sid)
        assert approved["status"] == "approved"
        # the attack of the issue: PUT other bytes to the still-valid upload URL after the approval
        again = await http.put(up["upload_url"], content=forged, headers=signed)
        assert again.status_code == 412, again.text  # If-None-Match: * — the URL works once
        headers = {k: v for k, v in signed.items() if k.lower() != "if-none-match"}
        bare = await http.put(up["upload_url"], content=forged, headers=headers)
        assert bare.status_code == 403  # leaving the signed header out breaks the signature
        # even a new version written past the URL (a store ignoring If-None-Match, or leaked keys)
        store = svc.rt.store
        assert store is not None
        key = f"evidence/140502/2026-Q1/{up['evidence_id']}"
        await store._run(store.client.put_object, store.bucket, key, io.BytesIO(forged), len(forged))
        dl = await svc.call("evidence_download_url", REPORTER, evidence_id=up["evidence_id"])
        assert dl["status"] == "verified" and dl["locked"] is True
        got = await http.get(dl["download_url"])
        assert got.status_code == 200 and got.content == PDF  # the approved bytes, never the forged ones
        [listed] = (await svc.call("evidence_by_units", REPORTER, ids=["140502"]))["140502"]
        assert (await http.get(listed["download_url"])).content == PDF
    verified = await svc.call("evidence_verify", DEPT, evidence_id=up["evidence_id"])
    assert verified["status"] == "verified"  # the pinned version still hashes to the declared SHA-256


async def test_the_store_refuses_undeclared_sizes_types_and_bytes(svc: Running) -> None:
    await published_city(svc)
    sid = await k0101(svc)
    small = b"0123456789"  # declared: 10 bytes of a PDF
    up = await declare(svc, sid, small)
    hdrs = up.get("upload_headers", {})  # (before the fix there were none)
    store = svc.rt.store
    assert store is not None
    key = f"evidence/140502/2026-Q1/{up['evidence_id']}"
    async with httpx.AsyncClient(timeout=60) as http:
        big = await http.put(up["upload_url"], content=b"x" * (20 * 1024 * 1024), headers=hdrs)
        assert big.status_code == 403  # Content-Length is signed
        html = {**hdrs, "Content-Type": "text/html"}
        assert (await http.put(up["upload_url"], content=small, headers=html)).status_code == 403
        other = await http.put(up["upload_url"], content=b"9876543210", headers=hdrs)
        assert other.status_code == 400 and "BadDigest" in other.text  # the SHA-256 checksum is signed
        assert await store.stat(key) is None  # nothing refused stays in the bucket
        with pytest.raises(KaoheError) as e:
            await svc.call("evidence_confirm", DEPT, evidence_id=up["evidence_id"])
        assert e.value.code == "evidence_missing"
        assert (await http.put(up["upload_url"], content=small, headers=hdrs)).status_code == 200
    assert (await svc.call("evidence_confirm", DEPT, evidence_id=up["evidence_id"]))["status"] == "verified"
    # bytes of the wrong size or type written past the URL are refused on confirm and deleted
    for body, ctype, field in (
        (small + b"!", "application/pdf", "size"),
        (small, "text/html", "content_type"),
    ):
        up2 = await declare(svc, sid, small)
        key2 = f"evidence/140502/2026-Q1/{up2['evidence_id']}"
        await store._run(store.client.put_object, store.bucket, key2, io.BytesIO(body), len(body), ctype)
        with pytest.raises(KaoheError) as e:
            await svc.call("evidence_confirm", DEPT, evidence_id=up2["evidence_id"])
        assert e.value.field == field, e.value.to_dict()
        assert await store.stat(key2) is None


@pytest.mark.parametrize(
    "name",
    [
        "a\"; filename*=UTF-8''evil.exe; x=\"y.pdf",
        "invoice\u202efdp.exe",  # RTL override: shows as invoiceexe.pdf
        "../../etc/passwd.pdf",
        "a/b.pdf",
        "a\\b.pdf",
        "a\x00.pdf",
        "line\r\nbreak.pdf",
        "semi;colon.pdf",
        ".hidden.pdf",
    ],
)
async def test_unsafe_filenames_are_refused_naming_the_field(svc: Running, name: str) -> None:
    await published_city(svc)
    sid = await k0101(svc)
    with pytest.raises(KaoheError) as e:
        await declare(svc, sid, PDF, filename=name)
    # NUL is refused for every RPC parameter by the kernel (invalid_character) before the filename rule
    assert e.value.field == "filename", e.value.to_dict()
    assert e.value.code in ("validation_failed", "invalid_character"), e.value.to_dict()


async def test_downloads_are_attachments_with_the_declared_type(svc: Running) -> None:
    await published_city(svc)
    sid = await k0101(svc)
    name = "2026年一季度 统计报告(终稿).pdf"
    up = await declare(svc, sid, PDF, filename=name)
    async with httpx.AsyncClient() as http:
        assert (
            await http.put(up["upload_url"], content=PDF, headers=up["upload_headers"])
        ).status_code == 200
        await svc.call("evidence_confirm", DEPT, evidence_id=up["evidence_id"])
        dl = await svc.call("evidence_download_url", REPORTER, evidence_id=up["evidence_id"])
        got = await http.get(dl["download_url"])
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == (
        f"attachment; filename=\"2026____ ____(__).pdf\"; filename*=UTF-8''{quote(name, safe='')}"
    )


async def test_out_of_scope_evidence_looks_exactly_like_missing_evidence(svc: Running) -> None:
    await published_city(svc)
    sid = await k0101(svc)
    up = await declare(svc, sid, PDF)
    zezhou = caller(Role.reporter, Role.department, Role.assessment_office, org="/14/1405/140525/")
    for method in ("evidence_download_url", "evidence_confirm", "evidence_verify"):
        errors = []
        for eid in (up["evidence_id"], "0" * 32):
            with pytest.raises(KaoheError) as e:
                await svc.call(method, zezhou, evidence_id=eid)
            errors.append(e.value.to_dict())
        assert (
            errors[0]
            == errors[1]
            == {
                "code": "not_found",
                "message": "evidence not found",
                "field": "evidence_id",
            }
        ), method
