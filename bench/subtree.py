"""Subtree benchmark: a 30,000-unit versioned tree, subtree of a county and ancestors of a village.

    python -m bench.subtree [--quick]

The tree (province → cities → counties → townships → villages) is loaded with COPY (creation speed is not
what is measured), then a few restructurings run through the RPC API so that "as of a past date" reads
other versions than "today". Each of the four cases — county subtree today / in the past, village ancestors
today / in the past — is timed over the RPC round trip (NATS request → service → PostgreSQL → reply).
`p50_ms` and `p99_ms` are the worst case's.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from datetime import UTC, date, datetime

import asyncpg

from bench._stack import percentile, report, start_infra
from kaohe.db import asyncpg_dsn
from tests.support.indicators import OFFICE, Running, running_on

PAST, CHANGE = date(2025, 6, 1), date(2026, 1, 1)


def say(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def build(
    cities: int, counties: int, towns: int, villages: int
) -> list[tuple[str, str, str, str | None, str]]:
    """(id, name, kind, parent_id, path) rows, parents before children."""
    rows: list[tuple[str, str, str, str | None, str]] = [("14", "山西省", "province", None, "/14/")]
    for c in range(cities):
        cid = f"14{c:02d}"
        cpath = f"/14/{cid}/"
        rows.append((cid, f"市{c}", "city", "14", cpath))
        for k in range(counties):
            kid = f"{cid}{k:02d}"
            kpath = f"{cpath}{kid}/"
            rows.append((kid, f"县{c}-{k}", "county", cid, kpath))
            for t in range(towns):
                tid = f"{kid}{t:03d}"
                tpath = f"{kpath}{tid}/"
                rows.append((tid, f"镇{c}-{k}-{t}", "township", kid, tpath))
                for v in range(villages):
                    vid = f"{tid}{v:03d}"
                    rows.append((vid, f"村{c}-{k}-{t}-{v}", "village", tid, f"{tpath}{vid}/"))
    return rows


async def load(db_url: str, rows: list[tuple[str, str, str, str | None, str]]) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    now = datetime.now(UTC)
    try:
        await conn.execute("TRUNCATE indicators.unit, indicators.unit_version")
        await conn.copy_records_to_table(
            "unit",
            schema_name="indicators",
            columns=["id", "name", "kind", "parent_id", "path", "valid_from", "created_at"],
            records=[(*r, PAST.replace(year=2020), now) for r in rows],
        )
        await conn.copy_records_to_table(
            "unit_version",
            schema_name="indicators",
            columns=["unit_id", "version", "name", "kind", "parent_id", "path", "valid_from", "change"],
            records=[(r[0], 1, r[1], r[2], r[3], r[4], PAST.replace(year=2020), "created") for r in rows],
        )
        await conn.execute("ANALYZE indicators.unit_version")
    finally:
        await conn.close()


async def timed(svc: Running, method: str, n: int, **params: object) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await svc.call(method, OFFICE, **params)
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def run(stack_urls: dict[str, str], env: dict[str, str], quick: bool) -> dict[str, object]:
    shape = (3, 4, 10, 20) if quick else (11, 10, 12, 21)
    rows = build(*shape)
    await load(stack_urls["database"], rows)
    say(f"{len(rows)} units loaded")
    n = 100 if quick else 400
    async with running_on(stack_urls, env, uuid.uuid4().hex[:8]) as svc:
        # restructure on CHANGE: township 140000001 moves to county 140001, 140000002 merges into 140000003
        await svc.call(
            "unit_move", OFFICE, unit_id="140000001", parent_id="140001", effective=CHANGE.isoformat()
        )
        await svc.call(
            "unit_merge", OFFICE, sources=["140000002"], into="140000003", effective=CHANGE.isoformat()
        )
        await svc.call(
            "unit_rename", OFFICE, unit_id="140000", name="县0-0（更名）", effective=CHANGE.isoformat()
        )
        village = "140000001005"
        today = await svc.call("unit_subtree", OFFICE, root_id="140000", first=500)
        past = await svc.call("unit_subtree", OFFICE, root_id="140000", first=500, as_of=PAST.isoformat())
        a_now = await svc.call("unit_ancestors", OFFICE, unit_id=village)
        a_past = await svc.call("unit_ancestors", OFFICE, unit_id=village, as_of=PAST.isoformat())
        say(f"county subtree: {len(today['items'])} units today, {len(past['items'])} on {PAST}")
        say(f"village ancestors today {[u['id'] for u in a_now]}, on {PAST} {[u['id'] for u in a_past]}")
        assert len(past["items"]) == 1 + shape[2] * (1 + shape[3]) and len(today["items"]) < len(
            past["items"]
        )
        assert a_now[-2]["id"] == "140001" and a_past[-2]["id"] == "140000"
        await timed(svc, "unit_subtree", 20, root_id="140000", first=500)  # warm-up: pool, plans, caches
        cases = {
            "subtree_today": await timed(svc, "unit_subtree", n, root_id="140000", first=500),
            "subtree_past": await timed(
                svc, "unit_subtree", n, root_id="140000", first=500, as_of=PAST.isoformat()
            ),
            "ancestors_today": await timed(svc, "unit_ancestors", n, unit_id=village),
            "ancestors_past": await timed(svc, "unit_ancestors", n, unit_id=village, as_of=PAST.isoformat()),
        }
    for name, xs in cases.items():
        say(f"{name}: p50 {percentile(xs, 50):.2f} ms, p99 {percentile(xs, 99):.2f} ms")
    worst = max(cases.values(), key=lambda xs: percentile(xs, 99))
    return {
        "p50_ms": round(max(percentile(xs, 50) for xs in cases.values()), 2),
        "p99_ms": round(percentile(worst, 99), 2),
        "units": len(rows),
        "subtree_size": len(today["items"]),
        "samples_per_case": n,
        **{f"{k}_p99_ms": round(percentile(v, 99), 2) for k, v in cases.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small tree, fewer samples (under a minute)")
    args = ap.parse_args()
    stack = start_infra()
    try:
        figures = asyncio.run(run(stack.urls, stack.env, args.quick))
    finally:
        stack.stop()
    report(figures)


if __name__ == "__main__":
    main()
