"""Authorization matrix of the operations that used to be RPC-only: every role × inside / outside /
nonexistent target. Inside, a role the policy allows is not refused (the operation may still fail on its
own terms); outside and nonexistent are refused alike, and nothing about the outside unit leaks."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from gateway.policy import Op, allowed
from kaohe.identity import Caller, Role
from tests.conftest import eventually
from tests.support.gateway import Harness, make_tree
from tests.support.seed import SYSTEM, Book, publish_book, scheme_body

DENIED = {"forbidden", "forbidden_role", "forbidden_scope", "forbidden_indicator", "not_found"}
ROLES = [r for r in Role if r not in (Role.system, Role.integration)]


@dataclass
class World:
    tag: str
    tree: dict[str, dict[str, Any]]
    books: dict[str, Book]  # "A1"/"B1" -> the book of the city above it (A / B)
    subs: dict[str, str]  # "A1"/"B1" -> a submitted (not yet approved) value


@pytest_asyncio.fixture(scope="module")
async def world(gw: Harness) -> World:
    tag = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(timeout=30) as http:
        tree = await make_tree(gw, http, tag)

    async def call(service: str, method: str, params: dict[str, Any]) -> Any:
        return await gw.gw.upstream.call(service, method, params, SYSTEM)

    books, subs = {}, {}
    for city, county in (("A", "A1"), ("B", "B1")):
        book = await publish_book(
            call, assessing_unit=tree[city]["id"], members=[tree[county]["id"]], tag=f"{city}{tag}".upper()
        )
        books[county] = book
        sub = await call(
            "indicators",
            "submission_create",
            {
                "unit_id": tree[county]["id"],
                "indicator_code": book.leaves[0],
                "period": "2026-03",
                "value": 3,
            },
        )
        subs[county] = sub["id"]

        async def known(book: Book = book) -> bool:
            try:
                await call("scoring", "config_get", {"scheme_id": book.scheme_id})
            except Exception:
                return False
            return True

        await eventually(known, what="scoring knows the city's scheme")
    return World(tag, tree, books, subs)


def _codes(body: dict[str, Any]) -> set[str]:
    out = {e.get("extensions", {}).get("code", "?") for e in body.get("errors") or []}
    out |= set(re.findall(r"'code': '([a-z_]+)'", str(body.get("data"))))
    return out


Run = Callable[[Harness, httpx.AsyncClient, dict[str, str], World, str], Awaitable[tuple[bool, str]]]


def _op(query: str, var: Callable[[World, str], dict[str, Any]]) -> Run:
    async def run(
        h: Harness, http: httpx.AsyncClient, hdr: dict[str, str], w: World, t: str
    ) -> tuple[bool, str]:
        body = await h.gql(http, query, var(w, t), headers=hdr)
        assert body["_status"] == 200 and "internal" not in _codes(body), body
        return not (_codes(body) & DENIED), str(body)

    return run


def _uid(w: World, t: str) -> str:
    return w.tree[t]["id"] if t in w.tree else f"ZZ{w.tag}"


def _scheme(w: World, t: str) -> str:
    return w.books[t].scheme_id if t in w.books else uuid.uuid4().hex


ERR = "errors { code }"


async def _merge(
    h: Harness, http: httpx.AsyncClient, hdr: dict[str, str], w: World, t: str
) -> tuple[bool, str]:
    """合并 a fresh child of the target into the target (a real merge when allowed inside)."""
    into, source = _uid(w, t), f"ZY{uuid.uuid4().hex[:8]}"
    if t in w.tree:
        new = {"id": source, "name": "待合并", "kind": "township", "parent_id": into}
        await h.gw.upstream.call("indicators", "unit_create", new, SYSTEM)
    query = f"mutation($s: String!, $u: String!) {{ unitMerge(sources: [$s], into: $u) {{ {ERR} }} }}"
    return await _op(query, lambda w, t: {"s": source, "u": into})(h, http, hdr, w, t)


OPS: list[tuple[str, Op, Run]] = [
    ("unitMerge", Op.unit_write, _merge),
    (
        "unitSplit",
        Op.unit_write,
        _op(
            f"mutation($i: UnitSplitInput!) {{ unitSplit(input: $i) {{ {ERR} }} }}",
            lambda w, t: {
                "i": {
                    "unitId": _uid(w, t),
                    "into": [{"id": _uid(w, t), "name": "甲"}, {"id": _uid(w, t), "name": "乙"}],
                }
            },
        ),
    ),
    (
        "categoriesSet",
        Op.scheme_write,
        _op(
            f"mutation($i: CategoriesSetInput!) {{ categoriesSet(input: $i) {{ {ERR} }} }}",
            lambda w, t: {
                "i": {
                    "assessingUnit": _uid(w, t),
                    "year": 2031,
                    "categories": [{"name": "乡镇"}],
                    "members": [],
                }
            },
        ),
    ),
    (
        "schemeValidate",
        Op.scheme_write,
        _op(
            "query($a: String!, $s: JSON!) {"
            " schemeValidate(assessingUnit: $a, year: 2026, scheme: $s) { ok } }",
            lambda w, t: {"a": _uid(w, t), "s": scheme_body(_uid(w, t), "县区", "V")},
        ),
    ),
    (
        "bulkTemplate",
        Op.submission_write,
        _op(
            "query($s: ID!, $u: String) {"
            ' bulkTemplate(schemeId: $s, period: "2026-03", unitId: $u) { rows } }',
            lambda w, t: {"s": _scheme(w, t), "u": _uid(w, t)},
        ),
    ),
    (
        "submissionBulkApprove",
        Op.submission_review,
        _op(
            "mutation($ids: [ID!]!) {"
            " submissionBulkApprove(ids: $ids) { items { ok error { code } } errors { code } } }",
            lambda w, t: {"ids": [w.subs.get(t, f"ZZ{w.tag}")]},
        ),
    ),
    (
        "scoringConfig",
        Op.scoring_config,
        _op("query($s: String!) { scoringConfig(schemeId: $s) }", lambda w, t: {"s": _scheme(w, t)}),
    ),
]


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
async def test_matrix(gw: Harness, world: World, role: Role) -> None:
    org = world.tree["A"]["path"]
    caller = Caller(user_id="u", roles=frozenset({role}), org_path=org)
    # a 责任部门 acts on its own indicators only: give it every leaf of both books
    codes = [leaf for b in world.books.values() for leaf in b.leaves] if role is Role.department else None
    hdr = gw.headers([role.value], org, **({"indicator_codes": codes} if codes else {}))
    b1 = world.tree["B1"]
    async with httpx.AsyncClient(timeout=30) as http:
        for name, op, run in OPS:
            expect = allowed(caller, op)
            inside, text = await run(gw, http, hdr, world, "A1")
            assert inside == expect, f"{role.value} {name} inside: expected allowed={expect}: {text}"
            outside, text = await run(gw, http, hdr, world, "B1")
            assert outside is False, f"{role.value} {name} outside must be refused: {text}"
            assert b1["path"] not in text and "单位B1" not in text, f"leak in {name}: {text}"
            missing, missing_text = await run(gw, http, hdr, world, "nonexistent")
            assert missing is False, f"{role.value} {name} nonexistent: {missing_text}"
