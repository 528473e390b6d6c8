"""Rewards benchmark (结果运用): a published quarter of 30,000 units with 300,000 cadres applied to pay.

    python -m bench.rewards [--quick]

Starts PostgreSQL, NATS, S3 and two processes — rewards and the gateway — as `kaohe up` would. Seeds the
way production data arrives: a `scheme.published` event names the assessing unit (考核主体) and its 30,000
units (as indicators would publish it); the cadre roster (干部名册: 10 per unit — a head, two leadership
members, seven staff — with monthly bases and their own grades) is loaded with binary COPY into the
registry tables (the import path's end state, bypassing its per-row checks); a rule set with six kinds
(quarterly pay by grade, 暂扣 and release, 末位零绩效, 考核系数, 提醒谈话, 先进单位) is activated over RPC.
Then a `results.published` event of the quarter (30 categories, ranks, grades, 末位) goes onto the bus, built
from the contract model as scoring would. Measured:

- `apply_s`: that event published → the proposal set stored (all lines, pools, problems; polled over RPC);
- `peak_rss_mb`: the rewards process's peak resident memory (VmHWM, since it started);
- `pool_error_fen`: Σ over units |pool − paid − withheld| + |paid − Σ the unit's pay lines|, computed in SQL
  from the stored rows (not the service's own figure);
- `whatif_s`: `whatif_run` of a draft (优秀 +20 %) over the same snapshot; `whatif_writes` counts the rows
  of every rewards table and their newest transaction id before and after (0: it wrote nothing);
- `export_rows_per_s`: after two-level approval, the payroll CSV through the gateway's REST API
  (`GET /api/v1/rewards/payroll`: the service renders it into S3) plus the download of the presigned file,
  rows / wall time of both.

`--quick`: 3,000 units and 30,000 cadres. The load average is reported beside the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench._stack import report, start_infra
from gateway.settings import GatewaySettings
from kaohe import bus, natsauth
from kaohe.contracts.indicators import RosterUnit, SchemePublished
from kaohe.contracts.scheme import Scheme
from kaohe.contracts.scoring import PublishedUnit, ResultsPublished
from kaohe.db import asyncpg_dsn
from kaohe.errors import KaoheError
from kaohe.events import nats_subject
from kaohe.identity import Caller, Role
from kaohe.rpc import RpcClient
from kaohe.tokens import issue_dev_token
from tests.support.scoring import SCHEME

CITY, CITY_PATH, YEAR, PERIOD = "1405", "/14/1405/", 2026, "2026-Q1"
PER_UNIT = 10
POSTS = ["主要负责人", "班子成员", "班子成员", *["一般干部"] * 7]
RANKS = ["正科", "副科", "副科", *["科员"] * 7]
GRADES = ("优秀", "良好", "一般", "较差")
ORG = Caller(user_id="bench-org", roles=frozenset({Role.organisation}), org_path="/")
OFFICE = Caller(user_id="bench-office", roles=frozenset({Role.assessment_office}), org_path="/")
RULES: list[dict[str, Any]] = [
    {"kind": "quarterly_pay", "id": "qpay", "basis": "《绩效工资发放办法》第五条",
     "adjust": {"优秀": "0.10", "较差": "-0.10"}},
    {"kind": "withholding", "id": "hold", "basis": "《季度考核办法》暂扣薪酬", "share": "0.2",
     "release": {"优秀": "1", "良好": "1", "一般": "0.5", "较差": "0"}},
    {"kind": "last_place_zero", "id": "zero", "basis": "末位零绩效", "period_kinds": ["quarter"]},
    {"kind": "coefficient", "id": "coef", "basis": "一线部门考核系数",
     "by_unit_kind": {"招商": "1.2", "产业": "1.1"}},
    {"kind": "cadre", "id": "talk", "basis": "考核结果运用办法 第八条", "consequence": "提醒谈话",
     "period_kind": "quarter", "condition": {"grades": ["一般", "较差"]}},
    {"kind": "honour", "id": "best", "basis": "评先评优办法", "honour": "先进单位", "period_kind": "quarter",
     "condition": {"grades": ["优秀"]}},
]  # fmt: skip
DRAFT = [{**RULES[0], "adjust": {"优秀": "0.20", "较差": "-0.10"}}, *RULES[1:]]


def say(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def units(n: int) -> list[dict[str, Any]]:
    """n units in 30 categories; grades 20/50/20/10 % by rank within the category, the last one 末位."""
    cats = [f"类别{i:02d}" for i in range(30)]
    out = []
    for i in range(n):
        out.append({"unit_id": f"U{i:06d}", "path": f"{CITY_PATH}U{i:06d}/", "category": cats[i % 30]})
    by_cat: dict[str, list[dict[str, Any]]] = {}
    for u in out:
        by_cat.setdefault(u["category"], []).append(u)
    for members in by_cat.values():
        of = len(members)
        for rank, u in enumerate(members, 1):
            share = rank / of
            u.update(rank=rank, of=of, total=100.0 - 50.0 * share, last_place=rank == of)
            u["grade"] = (
                "优秀" if share <= 0.2 else "良好" if share <= 0.7 else "一般" if share <= 0.9 else "较差"
            )
    return out


async def seed_roster(pg: asyncpg.Connection, rows: list[dict[str, Any]]) -> int:
    """10 cadres per unit into the registry tables by binary COPY: person, post, person_grade."""
    rnd = random.Random(13)
    persons, posts, grades = [], [], []
    start = date(2025, 1, 1)
    now = datetime.now(UTC)
    for u in rows:
        for j in range(PER_UNIT):
            key = "P" + uuid.UUID(int=rnd.getrandbits(128)).hex[:24]
            hmac = hashlib.sha256(key.encode()).hexdigest()  # stands for the keyed hash of an ID number
            persons.append((key, hmac, f"干部{u['unit_id'][1:]}{j}", None, now, now))
            pay = rnd.randrange(300_000, 800_000, 100)  # 3,000–8,000 元 a month
            posts.append((key, u["unit_id"], POSTS[j], RANKS[j], pay, start))
            grades.append((key, PERIOD, rnd.choices(GRADES, (25, 55, 15, 5))[0]))
    await pg.copy_records_to_table(
        "person",
        schema_name="rewards",
        records=persons,
        columns=["person_key", "id_hmac", "name", "account", "created_at", "updated_at"],
    )
    cols = ["person_key", "unit_id", "post", "rank", "monthly_pay_fen", "valid_from"]
    await pg.copy_records_to_table("post", schema_name="rewards", records=posts, columns=cols)
    await pg.copy_records_to_table(
        "person_grade", schema_name="rewards", records=grades, columns=["person_key", "period", "grade"]
    )
    return len(persons)


async def table_state(pg: asyncpg.Connection) -> dict[str, tuple[int, int]]:
    """Rows and newest transaction id of every rewards table (any insert or update moves one of them)."""
    names = await pg.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'rewards' ORDER BY 1")
    out = {}
    for r in names:
        t = r["tablename"]
        row = await pg.fetchrow(f'SELECT count(*) AS n, max(xmin::text::bigint) AS x FROM rewards."{t}"')
        out[t] = (row["n"], row["x"] or 0)
    return out


async def pool_error(pg: asyncpg.Connection, set_id: int) -> tuple[int, int]:
    """Σ |pool − paid − withheld| + |paid − Σ pay lines| over the set's units, and the number of units."""
    row = await pg.fetchrow(
        """
        WITH pay AS (SELECT unit_id, sum(amount_fen) AS s FROM rewards.proposal_line
                     WHERE set_id = $1 AND kind = 'pay' AND NOT dropped GROUP BY unit_id)
        SELECT coalesce(sum(abs(u.pool_fen - u.paid_fen - u.withheld_fen)
                            + abs(u.paid_fen - coalesce(pay.s, 0))), 0) AS err, count(*) AS n
        FROM rewards.proposal_unit u LEFT JOIN pay USING (unit_id) WHERE u.set_id = $1
        """,
        set_id,
    )
    return int(row["err"]), int(row["n"])


def rss_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def measure(stack: Any, quick: bool, timeout_s: float) -> dict[str, Any]:
    n = 3_000 if quick else 30_000
    nc = await bus.connect(stack.urls["nats"], name="bench-rewards", identity=natsauth.admin_identity())
    js = nc.jetstream()
    rpc = RpcClient(nc, timeout_s=timeout_s)
    pg = await asyncpg.connect(asyncpg_dsn(stack.urls["database"]))
    try:
        rows = units(n)
        sid = f"bench-{uuid.uuid4().hex[:8]}"
        scheme = SchemePublished(
            scheme_id=sid,
            assessing_unit=CITY,
            year=YEAR,
            version=1,
            scheme=Scheme.model_validate({**SCHEME, "year": YEAR}),
            units=[
                RosterUnit(unit_id=u["unit_id"], name=u["unit_id"], path=u["path"], category="乡镇")
                for u in rows
            ],
            published_at=datetime(YEAR, 1, 15, tzinfo=UTC),
            published_by="bench",
        )
        await js.publish(nats_subject("kaohe", SchemePublished.TYPE), scheme.event(subject=sid).to_bytes())
        t = time.perf_counter()
        while await pg.fetchval("SELECT count(*) FROM rewards.unit") < n:
            if time.perf_counter() - t > 300:
                raise SystemExit("rewards did not store the scheme's units")
            await asyncio.sleep(0.2)
        say(f"scheme.published with {n} units stored by rewards in {time.perf_counter() - t:.1f}s")
        t = time.perf_counter()
        cadres = await seed_roster(pg, rows)
        say(f"{cadres} cadres (person, post, own grade) copied in {time.perf_counter() - t:.1f}s")
        kinds = [
            {"unit_id": u["unit_id"], "unit_kind": ("招商", "产业")[i % 2]} for i, u in enumerate(rows[::10])
        ]
        for i in range(0, len(kinds), 5000):
            await rpc.call("rewards", "unit_profiles_set", {"items": kinds[i : i + 5000]}, ORG)
        rs = await rpc.call(
            "rewards", "ruleset_create", {"assessing_unit": CITY, "year": YEAR, "rules": RULES}, ORG
        )
        ref = {"assessing_unit": CITY, "year": YEAR, "version": rs["version"]}
        await rpc.call("rewards", "ruleset_activate", {**ref, "expected_revision": rs["revision"]}, ORG)

        snap = ResultsPublished(
            scheme_id=sid,
            period=PERIOD,
            snapshot_id=f"snap-{uuid.uuid4().hex[:10]}",
            digest=hashlib.sha256(sid.encode()).hexdigest(),
            units=[
                PublishedUnit(
                    unit_id=u["unit_id"],
                    unit_path=u["path"],
                    category=u["category"],
                    total=u["total"],
                    rank=u["rank"],
                    of=u["of"],
                    grade=u["grade"],
                    last_place=u["last_place"],
                )
                for u in rows
            ],
        )
        body = snap.event(subject=f"{sid}:{PERIOD}").to_bytes()
        say(f"publishing results.published of {PERIOD}: {n} units, {len(body) / 1e6:.1f} MB · load {load()}")
        load_before = load()
        t = time.perf_counter()
        await js.publish(nats_subject("kaohe", ResultsPublished.TYPE), body)
        found: dict[str, Any] = {}
        while not found:
            page = await rpc.call("rewards", "proposal_sets_list", {"assessing_unit": CITY, "first": 10}, ORG)
            found = next((s for s in page["items"] if s["snapshot_id"] == snap.snapshot_id), {})
            if not found:
                if time.perf_counter() - t > 600:
                    raise SystemExit("no proposal set after 600 s")
                await asyncio.sleep(0.05)
        apply_s = time.perf_counter() - t
        rss = rss_peak_mb(stack.procs["rewards"].proc.pid)
        set_id = int(found["set_id"])
        err, pools = await pool_error(pg, set_id)
        say(
            f"proposals stored in {apply_s:.2f}s: {found['lines']} lines, {pools} unit pools,"
            f" pool error {err} fen, {len(found['problems'])} problems; rewards peak RSS {rss:.0f} MB"
        )

        before = await table_state(pg)
        t = time.perf_counter()
        wi = await rpc.call(
            "rewards", "whatif_run", {"snapshot_id": snap.snapshot_id, "rules": DRAFT, "top": 20}, ORG
        )
        whatif_s = time.perf_counter() - t
        after = await table_state(pg)
        writes = sum(1 for k in set(before) | set(after) if before.get(k) != after.get(k))
        say(
            f"what-if {whatif_s:.2f}s: {wi['gainers_count']} gain, {wi['losers_count']} lose,"
            f" draft pool error {wi['pool_error_fen']}; tables changed: {writes}"
        )

        for p in found["problems"]:  # none expected with every unit staffed; settled as a reviewer would
            found = await rpc.call(
                "rewards",
                "proposal_problem_resolve",
                {"set_id": set_id, "problem_id": p["problem_id"], "expected_version": found["version"],
                 "reason": "基准测试: 已核实"},
                OFFICE,
            )  # fmt: skip
        figures: dict[str, Any] = {
            "benchmark": "rewards",
            "quick": quick,
            "units": n,
            "cadres": cadres,
            "lines": found["lines"],
            "apply_s": round(apply_s, 3),
            "peak_rss_mb": round(rss, 1),
            "pool_error_fen": err,
            "pool_units": pools,
            "whatif_s": round(whatif_s, 3),
            "whatif_writes": writes,
            "load_avg_before": load_before,
        }
        t = time.perf_counter()
        try:
            one = await rpc.call(
                "rewards",
                "proposal_set_approve",
                {"set_id": set_id, "expected_version": found["version"], "level": 1},
                OFFICE,
            )
            two = await rpc.call(
                "rewards",
                "proposal_set_approve",
                {"set_id": set_id, "expected_version": one["version"], "level": 2},
                ORG,
            )
        except KaoheError as e:  # the payroll export needs an approved set: report what was measured
            say(f"approval failed after {time.perf_counter() - t:.0f}s: {e.code} {e.message}")
            return {**figures, "approve_error": e.code, "export_rows_per_s": None, "load_avg_after": load()}
        approve_s = time.perf_counter() - t
        say(f"two-level approval (ledger entries, events) in {approve_s:.2f}s: {two['status']}")
        figures["approve_s"] = round(approve_s, 3)

        token = issue_dev_token(GatewaySettings(), user_id="bench-org", roles=["organisation"], org_path="/")
        async with httpx.AsyncClient(timeout=600) as http:
            t = time.perf_counter()
            r = await http.get(
                f"{stack.gateway_url}/api/v1/rewards/payroll",
                params={"set_id": set_id},
                headers={"Authorization": f"Bearer {token}"},
            )
            r.raise_for_status()
            meta = r.json()
            render_s = time.perf_counter() - t  # the REST call: the service renders the file into S3
            got = await http.get(meta["url"])
            got.raise_for_status()
            export_s = time.perf_counter() - t
        lines = got.content.count(b"\n") - 1  # the header
        if lines != meta["rows"] or hashlib.sha256(got.content).hexdigest() != meta["sha256"]:
            raise SystemExit(
                f"payroll file: {lines} lines, {meta['rows']} rows announced, or checksum differs"
            )
        say(f"payroll CSV: {meta['rows']} rows, {len(got.content) / 1e6:.1f} MB in {export_s:.2f}s")
        return {
            **figures,
            "export_rows": meta["rows"],
            "export_s": round(export_s, 3),
            "export_render_s": round(render_s, 3),
            "export_download_s": round(export_s - render_s, 3),
            "export_rows_per_s": round(meta["rows"] / export_s),
            "load_avg_after": load(),
        }
    finally:
        await pg.close()
        await nc.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3,000 units and 30,000 cadres")
    ap.add_argument("--timeout", type=float, default=900, help="seconds any one RPC may take (default 900)")
    args = ap.parse_args()
    stack = start_infra()
    try:
        stack.env.setdefault("KAOHE_LOG_LEVEL", "WARNING")
        for c in ("GATEWAY", "REWARDS"):
            stack.env.setdefault(f"KAOHE_{c}_LOG_LEVEL", "WARNING")
        for c in ("rewards", "gateway"):  # only what is measured: no scoring or indicators competing
            stack._start_component(c, 60)
            say(f"{c} ready")
        figures = asyncio.run(measure(stack, args.quick, args.timeout))
    finally:
        stack.stop()
    report(figures)


if __name__ == "__main__":
    main()
