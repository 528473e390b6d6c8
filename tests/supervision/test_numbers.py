"""Item numbers across offices (issue 12): each 督查室 numbers its own items under its own prefix, so a list
across offices never shows two identical numbers; a prefix can be set; numbers given before stay valid."""

from __future__ import annotations

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from tests.conftest import Infra, Namespace
from tests.supervision.harness import OFFICE, OUT_OFFICE, PROVINCE, Sup, future, running


def params(office: str, lead: str) -> dict[str, object]:
    task = {"unit_id": lead, "task": "牵头整改", "deadline": future(30)}
    return {"office_id": office, "lead": task, "cooperating": [], "deadline": future(30)}


async def test_two_offices_first_items_differ_and_a_number_given_by_hand_is_skipped(sup: Sup) -> None:
    jin = await sup.create(OFFICE, **params("1405", "140501"))
    chang = await sup.create(OUT_OFFICE, **params("1406", "140601"))
    year = jin["number"][jin["number"].index("〔") + 1 :][:4]
    assert (jin["number"], chang["number"]) == (f"晋督〔{year}〕1号", f"长督〔{year}〕1号")
    # a number typed in the old form (bare 督) is still accepted and its sequence is not issued again
    old = await sup.create(OFFICE, number=f"督〔{year}〕2号", **params("1405", "140502"))
    assert old["number"] == f"督〔{year}〕2号"
    nxt = await sup.create(OFFICE, **params("1405", "140503"))
    assert nxt["number"] == f"晋督〔{year}〕3号"
    listed = await sup.call("item_list", {"first": 50}, PROVINCE)
    numbers = [i["number"] for i in listed["items"]]
    assert len(numbers) == 4 and len(set(numbers)) == 4


async def test_an_office_prefix_can_be_set(
    infra: Infra, database_url: str, ns: Namespace, nc: NATS, js: JetStreamContext
) -> None:
    async with running(infra, database_url, ns, nc, js, number_prefixes={"1405": "晋市督"}) as sup:
        await sup.seed_units()
        it = await sup.create(OFFICE, **params("1405", "140501"))
        other = await sup.create(OUT_OFFICE, **params("1406", "140601"))
        assert it["number"].startswith("晋市督〔") and other["number"].startswith("长督〔")
