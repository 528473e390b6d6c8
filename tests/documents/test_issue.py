"""Issuing documents against the real services: the bulletin's text and charts, 文号, immutability, scope."""

from __future__ import annotations

import hashlib
import io
import re
from typing import Any

import httpx
import pypdfium2
import pytest
from pypdf import PdfReader

from kaohe.errors import KaoheError
from tests.documents.conftest import OFFICE, office, reporter
from tests.support.gateway import Harness, Scored


def text_of(pdf: bytes) -> str:
    """All pages' text as a PDF reader (PDFium, Chrome's) extracts it, without whitespace."""
    doc = pypdfium2.PdfDocument(pdf)
    try:
        return re.sub(r"\s+", "", "".join(page.get_textpage().get_text_range() for page in doc))
    finally:
        doc.close()


async def download(doc: dict[str, Any], fmt: str = "pdf") -> bytes:
    url = next(f["url"] for f in doc["files"] if f["format"] == fmt)
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.get(url)
        r.raise_for_status()
        return r.content


async def ranking(call: Any, world: Scored) -> list[dict[str, Any]]:
    book = world.city
    page = await call(
        "ranking",
        {"scheme_id": book.scheme_id, "period": world.period, "category": book.category, "first": 500},
        office(),
        service="scoring",
    )
    return page["items"]


async def test_bulletin_lists_the_ranking_in_order_with_names_charts_and_watermark(
    call: Any, world: Scored
) -> None:
    doc = await call(
        "bulletin_issue", {"scheme_id": world.city.scheme_id, "period": world.period, **OFFICE}, office()
    )
    assert doc["kind"] == "bulletin" and doc["status"] == "preliminary"
    assert re.fullmatch(r"A考办〔20\d\d〕\d+号", doc["number"])
    pdf = await download(doc)
    assert hashlib.sha256(pdf).hexdigest() == next(f["sha256"] for f in doc["files"] if f["format"] == "pdf")
    text = text_of(pdf)
    assert "单位A考核工作领导小组办公室" in text and doc["number"] in text and "考核结果的通报" in text
    assert "初步结果" in text  # the watermark of preliminary data
    rows = await ranking(call, world)
    assert len(rows) == len(world.city.members) == 5
    body = text[text.index("排名与等次") :]
    positions = [body.index(r["unit_name"] + f"{r['total']:.2f}") for r in rows]
    assert positions == sorted(positions), "the table lists the units in rank order"
    for r in rows:  # each row: rank, name, total
        assert f"{r['rank']}{r['unit_name']}{r['total']:.2f}" in body
    # one ranking chart per category, drawn as one filled bar per unit
    assert text.count(f"图：{world.city.category}综合得分排名") == 1
    reader = PdfReader(io.BytesIO(pdf))
    ops = b"".join(p.get_contents().get_data() for p in reader.pages)
    assert ops.count(b" re f") + ops.count(b" re\nf") >= len(rows)
    assert doc["pages"] == len(reader.pages)
    xlsx = await download(doc, "xlsx")
    assert xlsx[:2] == b"PK"


async def test_second_issue_gets_the_next_number_and_issued_bytes_never_change(
    call: Any, world: Scored, gw: Harness
) -> None:
    params = {"scheme_id": world.city.scheme_id, "period": world.period, **OFFICE, "office_code": "A考办复"}
    first = await call("bulletin_issue", params, office())
    second = await call("bulletin_issue", params, office())
    assert (first["seq"], second["seq"]) == (1, 2)
    assert first["number"] != second["number"] and first["document_id"] != second["document_id"]
    original = await download(first)
    # The store refuses a second write to an issued document's key…
    from services.documents.service.store import put_once

    rt = gw.services["documents"]
    key = f"documents/{first['document_id']}.pdf"
    async with httpx.AsyncClient() as http:
        with pytest.raises(KaoheError) as e:
            await put_once(rt.store, http, key, b"%PDF-forged", "pdf")
    assert e.value.code == "storage_conflict"
    # …and even bytes forced in at the key with the store's root credentials (a new version) leave what
    # the document serves unchanged: its URL names the issued version.
    rt.store.client.put_object(rt.store.bucket, key, io.BytesIO(b"%PDF-forged"), 11)
    again = await call("document_get", {"document_id": first["document_id"]}, office())
    served = await download(again)
    assert served == original
    assert hashlib.sha256(served).hexdigest() == first["files"][0]["sha256"]


async def test_a_unit_sees_its_own_slip_and_not_anothers(call: Any, world: Scored) -> None:
    a1, a2, city = world.tree["A1"], world.tree["A2"], world.tree["A"]
    slip = await call(
        "slip_issue",
        {"scheme_id": world.city.scheme_id, "period": world.period, "unit_id": a1["id"], **OFFICE},
        office(),
    )
    assert slip["kind"] == "warning_slip" and slip["unit_id"] == a1["id"]
    text = text_of(await download(slip))
    assert "预警单" in text and "单位A1" in text
    ref = {"document_id": slip["document_id"]}
    # inside: the unit itself and the city above it
    for path in (a1["path"], city["path"]):
        assert (await call("document_get", ref, reporter(path)))["document_id"] == slip["document_id"]
        listed = await call("documents", {"kind": "warning_slip"}, reporter(path))
        assert slip["document_id"] in {d["document_id"] for d in listed["items"]}
    # outside: a sibling county gets what a nonexistent document gets
    for ref_ in (ref, {"document_id": "nonexistent"}):
        with pytest.raises(KaoheError) as e:
            await call("document_get", ref_, reporter(a2["path"]))
        assert e.value.code == "not_found" and e.value.field == "document_id"
    listed = await call("documents", {}, reporter(a2["path"]))
    assert slip["document_id"] not in {d["document_id"] for d in listed["items"]}
    # the bulletin of the city is for every unit it ranks
    bulletin = await call(
        "bulletin_issue", {"scheme_id": world.city.scheme_id, "period": world.period, **OFFICE}, office()
    )
    got = await call("document_get", {"document_id": bulletin["document_id"]}, reporter(a2["path"]))
    assert got["number"] == bulletin["number"]


async def test_issuing_needs_the_office_over_the_subject(call: Any, world: Scored) -> None:
    a1, a2 = world.tree["A1"], world.tree["A2"]
    slip = {"scheme_id": world.city.scheme_id, "period": world.period, "unit_id": a1["id"], **OFFICE}
    with pytest.raises(KaoheError) as e:
        await call("slip_issue", slip, reporter(a1["path"]))
    assert e.value.code == "forbidden_role"
    with pytest.raises(KaoheError) as e:  # another county's office: scoped out before anything renders
        await call("slip_issue", slip, office(a2["path"]))
    assert e.value.code in ("not_found", "forbidden_scope")
    bulletin = {"scheme_id": world.city.scheme_id, "period": world.period, **OFFICE}
    with pytest.raises(KaoheError) as e:  # a county office cannot issue the city's bulletin
        await call("bulletin_issue", bulletin, office(a1["path"]))
    assert e.value.code in ("not_found", "forbidden_scope")


async def test_warning_slip_shows_lagging_indicators_and_the_pace_curve(call: Any, world: Scored) -> None:
    warnings = await call(
        "warnings",
        {"root_path": world.tree["A"]["path"], "period": world.period, "first": 500},
        office(),
        service="scoring",
    )
    assert warnings["items"], "the seeded values put some units behind schedule"
    w = max(warnings["items"], key=lambda x: x["lag"])
    slip = await call(
        "slip_issue",
        {"scheme_id": world.city.scheme_id, "period": world.period, "unit_id": w["unit_id"], **OFFICE},
        office(),
    )
    text = text_of(await download(slip))
    assert f"{w['lag']:.1%}" in text and w["level_zh"] in text
    assert "序时进度曲线" in text  # the pace curve of each lagging indicator


async def test_published_results_are_said_so_and_not_watermarked(call: Any, world: Scored) -> None:
    book, period = world.city, world.other_period
    await call(
        "results_publish", {"scheme_id": book.scheme_id, "period": period}, office(), service="scoring"
    )
    doc = await call("bulletin_issue", {"scheme_id": book.scheme_id, "period": period, **OFFICE}, office())
    assert doc["status"] == "published" and doc["snapshot_id"]
    text = text_of(await download(doc))
    assert "初步结果" not in text and "依据已发布的考核结果" in text and doc["snapshot_id"] in text


async def test_concurrent_issues_of_one_office_get_consecutive_numbers(call: Any, world: Scored) -> None:
    import asyncio

    params = {"scheme_id": world.city.scheme_id, "period": world.period, **OFFICE, "office_code": "A考办并"}
    docs = await asyncio.gather(*(call("bulletin_issue", params, office()) for _ in range(3)))
    assert sorted(d["seq"] for d in docs) == [1, 2, 3]
    assert len({d["number"] for d in docs}) == 3
    listed = await call("documents", {"kind": "bulletin", "first": 500}, office())
    mine = sorted(d["seq"] for d in listed["items"] if d["office_code"] == "A考办并")
    assert mine == [1, 2, 3]  # no gap, no duplicate
