"""Authorization matrix of the scoring domain: every role × every ranking/results operation × inside/outside.

Callers are scoped to city A. Two results books exist: the province's (assessed by P: A1..An and B1) and
city A's (A1..An). Unit operations target A1 (inside) and B1 (outside); book-wide office operations target
city A's book (inside) and the province's (outside: the office of A cannot run the province's results).
Outside must be denied exactly like a missing target, and B1's data must never appear.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from gateway.policy import Op, allowed
from kaohe.identity import Caller, Role
from tests.gateway.test_authz import DENIED, ROLES, _codes, _codes_of
from tests.support.gateway import Harness, Scored, scored_world
from tests.support.seed import SYSTEM, value_of

Outcome = tuple[bool, str]
Run = Callable[[Harness, httpx.AsyncClient, dict[str, str], "World", str], Awaitable[Outcome]]


@dataclass
class World:
    s: Scored
    key: str  # an API key (scope *) over city A
    jobs: dict[str, str]  # target -> recompute job id

    def unit(self, t: str) -> str:
        return self.s.tree[t]["id"] if t in self.s.tree else f"ZZ{uuid.uuid4().hex[:6]}"

    def book_of(self, t: str) -> str:
        """The book a unit target is assessed in: city A's for A's counties, else the province's."""
        return self.s.city.scheme_id if self.unit(t) in self.s.city.members else self.s.province.scheme_id

    def book(self, t: str) -> str:
        """Book-wide targets: inside = city A's book, outside = the province's, missing = unknown."""
        return {"A1": self.s.city.scheme_id, "B1": self.s.province.scheme_id}.get(t, "no-such-scheme")


def _svc_behind(i: int, leaf: str) -> float:
    """Every unit lags on 政务服务 (a warning each), the rest varies."""
    return 2.0 if leaf.endswith("SVC") else value_of(i, leaf)


@pytest_asyncio.fixture(scope="module")
async def world(gw: Harness) -> World:
    async with httpx.AsyncClient(timeout=60) as http:
        s = await scored_world(gw, http, uuid.uuid4().hex[:6], value=_svc_behind)
        up = gw.gw.upstream

        async def call(method: str, params: dict[str, Any]) -> Any:
            return await up.call("scoring", method, params, SYSTEM)

        until = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
        for book in (s.province, s.city):
            await call(
                "objection_window_open", {"scheme_id": book.scheme_id, "period": s.period, "until": until}
            )
        for t in ("A1", "B1"):
            params = {"scheme_id": s.province.scheme_id, "period": s.period, "reason": "复核"}
            await call("objection_create", {**params, "unit_id": s.tree[t]["id"]})
        await call("results_publish", {"scheme_id": s.province.scheme_id, "period": s.other_period})
        jobs = {}
        for t, book in (("A1", s.city), ("B1", s.province)):
            jobs[t] = (await call("recompute_start", {"scheme_id": book.scheme_id, "period": s.period}))[
                "job_id"
            ]
        office = gw.headers(["assessment_office"], "/")
        r = await http.post(
            f"{gw.url}/api/v1/api-keys",
            json={"name": "all", "scopes": ["*"], "org_path": s.tree["A"]["path"]},
            headers=office,
        )
        assert r.status_code == 201, r.text
    return World(s, r.json()["key"], jobs)


def _q(
    query: str,
    var: Callable[[World, str], dict[str, Any]],
    read: Callable[[Any, World, str], bool] | None = None,
) -> Run:
    """A GraphQL operation; `read` judges whether the target's data came back (None: no denial = allowed)."""

    async def run(h: Harness, http: httpx.AsyncClient, hdr: dict[str, str], w: World, t: str) -> Outcome:
        body = await h.gql(http, query, var(w, t), headers=hdr)
        if _codes(body) & DENIED:
            return False, str(body)
        if read is not None:
            return read(body.get("data"), w, t), str(body)
        return True, str(body)

    return run


def _has_unit(field: str, key: str = "unitId") -> Callable[[Any, World, str], bool]:
    def read(data: Any, w: World, t: str) -> bool:
        conn = (data or {}).get(field) or {}
        nodes = conn.get("nodes") if "nodes" in conn else (conn.get("rows") or {}).get("nodes")
        return any(n[key] == w.unit(t) for n in nodes or [])

    return read


def _present(field: str) -> Callable[[Any, World, str], bool]:
    return lambda data, w, t: bool((data or {}).get(field))


def _bp(w: World, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"s": w.s.province.scheme_id, "p": w.s.period, **(extra or {})}


async def _answer(h: Harness, http: httpx.AsyncClient, hdr: dict[str, str], w: World, t: str) -> Outcome:
    """答复申诉 of a fresh objection by the target unit (created by the platform in the book covering it)."""
    oid = f"ZZ{uuid.uuid4().hex[:6]}"
    if t in w.s.tree:
        book = w.s.city if w.unit(t) in w.s.city.members else w.s.province
        params = {"scheme_id": book.scheme_id, "period": w.s.period, "unit_id": w.unit(t), "reason": "复核"}
        oid = (await h.gw.upstream.call("scoring", "objection_create", params, SYSTEM))["objection_id"]
    q = """mutation($o: String!) { objectionAnswer(objectionId: $o, answer: "维持", decision: REJECTED) {
      objection { unitId unitPath status } errors { code } } }"""
    return await _q(q, lambda w_, t_: {"o": oid})(h, http, hdr, w, t)


UNIT_OPS: list[tuple[str, Op, Run]] = [
    ("ranking", Op.score_read, _q(
        """query($s: ID!, $p: String!, $c: String!) {
          ranking(schemeId: $s, period: $p, category: $c, first: 100) {
          nodes { unitId unitName unitPath rank warningColour level1 { code score } } } }""",
        lambda w, t: _bp(w, {"c": w.s.province.category}), _has_unit("ranking"))),
    ("board", Op.warning_read, _q(
        """query($s: ID!, $p: String!) { board(schemeId: $s, period: $p, first: 100) {
          nodes { unitId unitName unitPath colour behind } } }""", lambda w, t: _bp(w), _has_unit("board"))),
    ("warnings", Op.warning_read, _q(
        """query($r: ID!, $p: String!) { warnings(rootId: $r, period: $p, first: 100) {
          nodes { unitId unitPath code level } } }""",
        lambda w, t: {"r": w.unit(t), "p": w.s.period}, _has_unit("warnings"))),
    ("scoreExplanation", Op.score_read, _q(
        """query($u: String!, $s: ID!, $p: String!) { scoreExplanation(unitId: $u, period: $p, schemeId: $s) {
          unitId digest trace } }""", lambda w, t: _bp(w, {"u": w.unit(t)}), _present("scoreExplanation"))),
    ("periodScores", Op.score_read, _q(
        """query($u: String!, $s: ID!) {
          periodScores(unitId: $u, schemeId: $s, year: 2026) { period total } }""",
        lambda w, t: {"u": w.unit(t), "s": w.s.province.scheme_id}, _present("periodScores"))),
    ("resultsSnapshot", Op.score_read, _q(
        """query($s: ID!, $p: String!) { resultsSnapshot(schemeId: $s, period: $p, first: 100) {
          digest rows { nodes { unitId unitPath rank grade } } } }""",
        lambda w, t: {"s": w.s.province.scheme_id, "p": w.s.other_period}, _has_unit("resultsSnapshot"))),
    ("objections", Op.objection_read, _q(
        """query($s: ID!, $p: String!) { objections(schemeId: $s, period: $p, first: 100) {
          nodes { unitId unitPath reason } } }""", lambda w, t: _bp(w), _has_unit("objections"))),
    ("objectionCreate", Op.objection_write, _q(
        """mutation($i: ObjectionCreateInput!) { objectionCreate(input: $i) {
          objection { unitId unitPath } errors { code } } }""",
        lambda w, t: {"i": {"schemeId": w.s.province.scheme_id, "period": w.s.period, "unitId": w.unit(t),
                            "reason": "数据有误"}})),
    ("objectionAnswer", Op.results_manage, _answer),
    ("recomputeStart", Op.results_manage, _q(
        """mutation($s: String!, $p: String!) { recomputeStart(schemeId: $s, period: $p) {
          job { jobId } errors { code } } }""", lambda w, t: {"s": w.book(t), "p": w.s.period})),
    ("recomputeJob", Op.results_manage, _q(
        "query($j: ID!) { recomputeJob(jobId: $j) { jobId schemeId status } }",
        lambda w, t: {"j": w.jobs.get(t, "no-such-job")}, _present("recomputeJob"))),
    ("objectionWindowOpen", Op.results_manage, _q(
        """mutation($s: String!, $p: String!, $u: DateTime!) { objectionWindowOpen(schemeId: $s, period: $p,
          until: $u) { state { status } errors { code } } }""",
        lambda w, t: {"s": w.book(t), "p": w.s.period,
                      "u": (datetime.now(UTC) + timedelta(hours=2)).isoformat()})),
    ("configSet", Op.scoring_config, _q(
        """mutation($s: String!, $c: JSON!) { configSet(schemeId: $s, config: $c) {
          config errors { code } } }""",
        lambda w, t: {"s": w.book(t), "c": {"supervision_weight": 0.0}})),
    ("exemptionSet", Op.scoring_config, _q(
        """mutation($i: ExemptionSetInput!) { exemptionSet(input: $i) {
          exemption { unitId exempt } errors { code } } }""",
        lambda w, t: {"i": {"schemeId": w.book_of(t), "period": w.s.period, "unitId": w.unit(t),
                            "exempt": False}})),
    ("aspectScoresSet", Op.scoring_config, _q(
        """mutation($i: AspectScoresSetInput!) { aspectScoresSet(input: $i) {
          aspectScores { unitId scores } errors { code } } }""",
        lambda w, t: {"i": {"schemeId": w.book_of(t), "period": "2026-Q2", "unitId": w.unit(t),
                            "scores": {"leader_review": 90}}})),
    ("resultsPublish", Op.results_manage, _q(
        """mutation($s: String!, $p: String!) { resultsPublish(schemeId: $s, period: $p) {
          state { status digest } errors { code } } }""",
        lambda w, t: {"s": w.book(t), "p": w.s.other_period})),
]  # fmt: skip

BOOK_READS: list[tuple[str, Op, Run]] = [  # about a whole book: role decides, nothing of B1 may show
    ("grades", Op.score_read, _q(
        """query($s: ID!, $p: String!) {
          grades(schemeId: $s, period: $p) { category of quota lastPlace } }""",
        lambda w, t: _bp(w), _present("grades"))),
    ("resultsState", Op.score_read, _q(
        "query($s: ID!, $p: String!) { resultsState(schemeId: $s, period: $p) { status openObjections } }",
        lambda w, t: _bp(w), _present("resultsState"))),
    ("resultPeriods", Op.score_read, _q(
        "query($s: ID!) { resultPeriods(schemeId: $s) { period status } }",
        lambda w, t: {"s": w.s.province.scheme_id}, _present("resultPeriods"))),
]  # fmt: skip


def _caller(role: Role, w: World, gw: Harness) -> tuple[Caller, dict[str, str]]:
    path = w.s.tree["A"]["path"]
    if role is Role.integration:
        caller = Caller(user_id="k", roles=frozenset({role}), org_path=path, scopes=frozenset({"*"}))
        return caller, {"X-Api-Key": w.key}
    return Caller(user_id="u", roles=frozenset({role}), org_path=path), gw.headers([role.value], path)


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
async def test_results_matrix(gw: Harness, world: World, role: Role) -> None:
    caller, hdr = _caller(role, world, gw)
    b1 = world.s.tree["B1"]
    secrets = (b1["path"], b1["id"], "单位B1")
    async with httpx.AsyncClient(timeout=30) as http:
        for name, op, run in UNIT_OPS:
            expect = allowed(caller, op)
            inside, text = await run(gw, http, hdr, world, "A1")
            assert inside == expect, f"{role.value} {name} inside: expected allowed={expect}: {text}"
            outside, text = await run(gw, http, hdr, world, "B1")
            assert outside is False, f"{role.value} {name} outside must be denied: {text}"
            leaked = [x for x in secrets[:1] + secrets[2:] if x in text]
            assert not leaked, f"leak in {name}: {text}"
            missing, missing_text = await run(gw, http, hdr, world, "nonexistent")
            assert missing is False
            assert _codes_of(text) == _codes_of(missing_text), f"{name}: outside differs from missing"
        for name, op, run in BOOK_READS:
            ok, text = await run(gw, http, hdr, world, "A1")
            assert ok == allowed(caller, op), f"{role.value} {name}: {text}"
            assert not [x for x in secrets if x in text], f"leak in {name}: {text}"


async def test_objection_outside_the_subtree_reads_like_a_missing_unit(gw: Harness, world: World) -> None:
    """申诉 for a unit outside one's subtree: `not_found` worded exactly as for a unit that does not exist
    (not "not assessed in this scheme", which is untrue and tells the unit exists)."""
    q = """mutation($i: ObjectionCreateInput!) { objectionCreate(input: $i) {
      objection { unitId status } errors { code field message } } }"""
    hdr = gw.headers(["reporter"], world.s.tree["A"]["path"])
    errors = {}
    async with httpx.AsyncClient(timeout=30) as http:
        for t in ("A1", "B1", "nonexistent"):
            unit = world.unit(t)
            inp = {
                "schemeId": world.s.province.scheme_id,
                "period": world.s.period,
                "unitId": unit,
                "reason": "复核",
            }
            body = (await gw.gql(http, q, {"i": inp}, headers=hdr))["data"]["objectionCreate"]
            if t == "A1":
                assert body["objection"]["unitId"] == unit and body["errors"] == [], body
                continue
            [err] = body["errors"]
            errors[t] = {**err, "message": err["message"].replace(unit, "<unit>")}
    assert errors["B1"] == errors["nonexistent"], errors
    assert errors["B1"]["code"] == "not_found" and errors["B1"]["message"] == "unit <unit> not found", errors
