"""Authorization matrix (权限矩阵): every RPC method inside the caller's subtree, outside it, with a role
that may not call it, and on an object that does not exist. Nothing outside changes anything."""

# ruff: noqa: E501 — the matrix is a table, one method a row

from __future__ import annotations

import base64
from typing import Any

import asyncpg

from kaohe.contracts.rewards import METHODS
from kaohe.db import asyncpg_dsn
from kaohe.errors import KaoheError
from kaohe.identity import Caller, Role
from tests.rewards.scenario import PEOPLE, Q1, activate, registry
from tests.support.rewards import HR, OFFICE, ORG, OUTSIDER, REPORTER, Rewards

NOBODY = "P" + "0" * 24
OTHER_REPORTER = Caller(user_id="rep-2", roles=frozenset({Role.reporter}), org_path="/14/1405/140502/")
OTHER_HR = Caller(user_id="hr-x", roles=frozenset({Role.integration}), org_path="/15/")
CSV = base64.b64encode(
    "身份证号,姓名,单位代码,职务类别,职级,月绩效基数(元),任职日期\n110101199505055678,孙七,140501,一般干部,科员,2800,2026-01-01\n".encode()
).decode()


async def _world(rw: Rewards) -> dict[str, Any]:
    sid = await rw.scheme()
    keys = await registry(rw)
    await activate(rw)
    q1 = await rw.publish(sid, "2026-Q1", Q1)
    s1 = await rw.current_set(q1.snapshot_id)
    one = await rw.call(
        "proposal_set_approve", {"set_id": s1["set_id"], "expected_version": 1, "level": 1}, OFFICE
    )
    await rw.call(
        "proposal_set_approve", {"set_id": s1["set_id"], "expected_version": one["version"], "level": 2}, ORG
    )
    q2 = await rw.publish(sid, "2026-Q2", Q1)
    s2 = await rw.current_set(q2.snapshot_id)
    draft = await rw.call("ruleset_create", {"assessing_unit": "1405", "year": 2026, "rules": []}, ORG)
    post = (await rw.call("person_get", {"person_key": keys["A"]}, ORG))["posts"][0]
    line = (await rw.call("proposal_lines", {"set_id": s2["set_id"], "kind": "pay", "first": 1}, ORG))[
        "items"
    ][0]
    return {"keys": keys, "q1": q1.snapshot_id, "s1": s1["set_id"], "s2": s2["set_id"], "draft": draft,
            "post": post["post_id"], "line": line["line_id"]}  # fmt: skip


def matrix(
    w: dict[str, Any],
) -> list[tuple[str, dict[str, Any], Caller, set[str], Caller, str, dict[str, Any] | None]]:
    """(method, params, outsider, codes the outsider may get, a caller without the role, its code, missing)."""
    a, s1, s2 = w["keys"]["A"], w["s1"], w["s2"]
    rs = {"assessing_unit": "1405", "year": 2026}
    dv = {**rs, "version": w["draft"]["version"], "expected_revision": w["draft"]["revision"]}
    upd = {**dv, "rules": []}
    nf, fs, fr = {"not_found"}, {"forbidden_scope"}, "forbidden_role"
    return [
        ("person_upsert", {"id_number": PEOPLE["A"][0], "name": "x"}, OTHER_HR, fs, REPORTER, fr, None),
        ("person_get", {"person_key": a}, OUTSIDER, nf, OTHER_REPORTER, "not_found", {"person_key": NOBODY}),
        ("post_upsert", {"person_key": a, "unit_id": "140501", "post": "班子成员", "rank": "副科",
                         "monthly_pay_fen": 1, "valid_from": "2026-06-01"}, OTHER_HR, fs, REPORTER, fr,
         {"person_key": a, "unit_id": "999999", "post": "班子成员", "rank": "副科", "monthly_pay_fen": 1,
          "valid_from": "2026-06-01"}),
        ("post_end", {"post_id": w["post"], "valid_to": "2026-12-31"}, OTHER_HR, nf, REPORTER, fr,
         {"post_id": 999999, "valid_to": "2026-12-31"}),
        ("cadres_list", {"unit_id": "140501"}, OUTSIDER, nf, HR, fr, {"unit_id": "999999"}),
        ("cadre_import_dry_run", {"filename": "a.csv", "content_b64": CSV}, None, set(), REPORTER, fr, None),
        ("cadre_import_commit", {"filename": "a.csv", "content_b64": CSV, "expected_digest": "0" * 64},
         OTHER_HR, {"import_changed"}, REPORTER, fr, None),
        ("person_grades_set", {"period": "2026-Q2", "items": [{"person_key": a, "grade": "良好"}]}, OTHER_HR, nf,
         REPORTER, fr, {"period": "2026-Q2", "items": [{"person_key": NOBODY, "grade": "良好"}]}),
        ("unit_profiles_set", {"items": [{"unit_id": "140501", "unit_kind": "产业"}]}, OUTSIDER, {"unit_unknown"},
         REPORTER, fr, {"items": [{"unit_id": "999999", "unit_kind": "产业"}]}),
        ("unit_pools_set", {"period": "2026-Q2", "items": [{"unit_id": "140501", "pool_fen": 1}]}, OUTSIDER,
         {"unit_unknown"}, REPORTER, fr, {"period": "2026-Q2", "items": [{"unit_id": "999999", "pool_fen": 1}]}),
        ("ruleset_create", {**rs, "rules": []}, OUTSIDER, fs, REPORTER, fr, None),
        ("ruleset_update", upd, OUTSIDER, fs, REPORTER, fr, {**upd, "version": 99}),
        ("ruleset_activate", dv, OUTSIDER, fs, REPORTER, fr, {**dv, "version": 99}),
        ("ruleset_get", rs, OUTSIDER, nf, REPORTER, fr, {**rs, "version": 99}),
        ("rulesets_list", {}, None, set(), REPORTER, fr, None),
        ("snapshots_list", {}, None, set(), REPORTER, fr, None),
        ("proposals_compute", {"snapshot_id": w["q1"]}, OUTSIDER, nf, REPORTER, fr, {"snapshot_id": "nope"}),
        ("proposal_sets_list", {}, None, set(), REPORTER, fr, None),
        ("proposal_set_get", {"set_id": s2}, OUTSIDER, nf, REPORTER, fr, {"set_id": 999999}),
        ("proposal_lines", {"set_id": s2, "unit_id": "140501"}, OUTSIDER, nf, OTHER_REPORTER, "not_found",
         {"set_id": 999999, "unit_id": "140501"}),
        ("proposal_line_adjust", {"set_id": s2, "line_id": w["line"], "expected_version": 1, "amount_fen": 0,
                                  "reason": "核减"}, OUTSIDER, nf, REPORTER, fr,
         {"set_id": 999999, "line_id": 1, "expected_version": 1, "amount_fen": 0, "reason": "核减"}),
        ("proposal_problem_resolve", {"set_id": s2, "problem_id": 1, "expected_version": 1, "reason": "同意"},
         OUTSIDER, nf, REPORTER, fr, {"set_id": s2, "problem_id": 99, "expected_version": 1, "reason": "同意"}),
        ("proposal_set_approve", {"set_id": s2, "expected_version": 1, "level": 1}, OUTSIDER, nf, REPORTER, fr,
         {"set_id": 999999, "expected_version": 1, "level": 1}),
        ("proposal_set_reject", {"set_id": s2, "expected_version": 1, "reason": "退回"}, OUTSIDER, nf, REPORTER,
         fr, {"set_id": 999999, "expected_version": 1, "reason": "退回"}),
        ("ledger_unit", {"unit_id": "140501"}, OUTSIDER, nf, HR, fr, {"unit_id": "999999"}),
        ("ledger_person", {"person_key": a}, OUTSIDER, nf, OTHER_REPORTER, "not_found", {"person_key": NOBODY}),
        ("ledger_by_units", {"ids": ["140501"]}, None, set(), HR, "", None),
        ("ledger_verify", {"unit_id": "140501"}, OUTSIDER, nf, REPORTER, fr, {"unit_id": "999999"}),
        ("ledger_export", {"unit_id": "140501"}, OUTSIDER, nf, HR, fr, {"unit_id": "999999"}),
        ("whatif_run", {"snapshot_id": w["q1"], "rules": []}, OUTSIDER, nf, REPORTER, fr,
         {"snapshot_id": "nope", "rules": []}),
        ("payroll_export", {"set_id": s1}, OUTSIDER, nf, REPORTER, fr, {"set_id": 999999}),
    ]  # fmt: skip


async def _code(rw: Rewards, method: str, params: dict[str, Any], caller: Caller) -> str:
    try:
        got = await rw.call(method, params, caller)
    except KaoheError as e:
        return e.code
    if isinstance(got, dict) and "items" in got:
        return "empty" if not got["items"] else "ok"
    if method == "ledger_by_units":
        return "empty" if not any(got.values()) else "ok"
    return "ok"


async def _state(database_url: str) -> list[Any]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        out = []
        for t in ("person", "post", "person_grade", "unit", "unit_pool", "ruleset", "proposal_set",
                  "proposal_line", "proposal_review", "proposal_problem", "ledger", "outbox"):  # fmt: skip
            out.append(await conn.fetch(f"SELECT * FROM rewards.{t} ORDER BY 1, 2"))
        return out
    finally:
        await conn.close()


async def test_every_method_inside_outside_without_the_role_and_missing(
    rewards: Rewards, database_url: str
) -> None:
    rw = rewards
    w = await _world(rw)
    rows = matrix(w)
    assert {r[0] for r in rows} == set(METHODS), "every method of the contract is in the matrix"
    wrong: list[str] = []
    before = await _state(database_url)
    for method, params, outsider, codes, role_less, role_code, missing in rows:
        if outsider is not None:
            got = await _code(rw, method, params, outsider)
            if got not in codes:
                wrong.append(f"{method} outside: {got}, expected one of {codes}")
        elif (got := await _code(rw, method, params, OUTSIDER)) not in ("empty",):
            if method in ("cadre_import_dry_run",):
                report = await rw.call(method, params, OTHER_HR)
                if [p["field"] for p in report["problems"]] != ["单位代码"]:
                    wrong.append(f"{method} outside: {report['problems']}")
            else:
                wrong.append(f"{method} outside: {got}, expected an empty answer")
        got = await _code(rw, method, params, role_less)
        if got != (role_code or "empty"):
            wrong.append(f"{method} as {role_less.user_id}: {got}, expected {role_code or 'empty'}")
        if missing is not None and (got := await _code(rw, method, missing, ORG)) not in (
            "not_found",
            "unit_unknown",
        ):
            wrong.append(f"{method} missing: {got}")
    assert not wrong, "\n".join(wrong)
    assert await _state(database_url) == before, "a refused call changed something"
    for method, params, *_ in rows:  # inside: allowed (a conflict of state is fine, a refusal is not)
        if method in ("cadre_import_commit",):
            continue
        got = await _code(rw, method, params, ORG if method != "proposal_set_approve" else OFFICE)
        if got in ("forbidden_role", "forbidden_scope", "not_found", "unit_unknown"):
            wrong.append(f"{method} inside: {got}")
    assert not wrong, "\n".join(wrong)
    # a unit's own reporter reads its unit's lines and ledger, and a person their own ledger
    assert await _code(rw, "proposal_lines", {"set_id": w["s2"], "unit_id": "140501"}, REPORTER) == "ok"
    assert await _code(rw, "ledger_unit", {"unit_id": "140501"}, REPORTER) == "ok"
    me = Caller(user_id="acct-A", roles=frozenset({Role.reporter}), org_path="/99/")
    assert await _code(rw, "ledger_person", {"person_key": w["keys"]["A"]}, me) == "ok"


async def test_rule_set_pages_follow_the_cursor(rewards: Rewards) -> None:
    rw = rewards
    await rw.scheme()
    for _ in range(3):
        await rw.call("ruleset_create", {"assessing_unit": "1405", "year": 2026, "rules": []}, ORG)
    first = await rw.call("rulesets_list", {"first": 2}, ORG)
    rest = await rw.call("rulesets_list", {"first": 2, "after": first["next"]}, ORG)
    assert [r["version"] for r in first["items"]] == [1, 2] and first["next"]
    assert ([r["version"] for r in rest["items"]], rest["next"]) == ([3], None)
    assert (await rw.call("rulesets_list", {}, OUTSIDER))["items"] == []
