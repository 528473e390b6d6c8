"""Benchmark of the documents service (公文): rendering the 考核结果通报 of a city and of a province.

`python -m bench.documents [--quick]` (run it under `flock /work/bench.lock`). Prints one JSON object as
its last line: `bulletin_s` (a city: 300 assessed units in four categories, goal ≤ 3 s), `province_bulletin_s`
(3,000 units, goal ≤ 20 s), `pages` (of the city's bulletin), `province_pages`, `slip_s` (one 预警单 with
two pace curves) and, when `bench/fanout.py` exists (the notifications benchmark), its figures merged in
(`fanout_per_s`, …). Times are the median of the runs of a warm process (the fonts' first load, ~0.3 s
each, is `first_render_s`). The data is synthetic and shaped like scoring's: level-1 breakdown, grades,
三色榜 and a previous period's ranks; the rendering is exactly the service's (`services.documents.domain`).
Then, unless `--no-e2e`, end to end on the real stack: a city of 300 townships (60 with `--quick`) in four
categories, a month approved and ranked by the services, and `documents.bulletin_issue` timed as a client
sees it — scoring and indicators reads, render, S3 write, 文号 (`e2e_bulletin_s`, `e2e_pages`).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import io
import json
import os
import statistics
import sys
import time
import uuid
from typing import Any

from pypdf import PdfReader  # dev dependency: counts the pages the way a reader does

from services.documents.domain import bulletin, slips
from services.documents.domain.model import (
    GRADES,
    BoardCell,
    Bulletin,
    Category,
    GradeCounts,
    Heading,
    Lagging,
    Level1Score,
    PacePoint,
    RankRow,
    Slip,
)

LEVEL1 = ("经济发展", "项目建设", "改革创新", "社会治理", "生态环保")
CATEGORIES = ("县区", "开发区", "市直部门", "乡镇街道")
PLACE = "城关东西南北中新老上下和平安康宁兴旺富民"


def unit_name(i: int) -> str:
    return f"{PLACE[i % len(PLACE)]}{PLACE[(i // 7) % len(PLACE)]}{'镇街区乡'[i % 4]}{i:04d}"


def synthetic_bulletin(units: int, categories: int = 4, *, preliminary: bool = False) -> Bulletin:
    """A bulletin shaped like scoring's answers: `units` split evenly over `categories`."""
    cats = []
    per = units // categories
    for c in range(categories):
        rows = []
        for k in range(per):
            i = c * per + k
            total = 98.0 - 30.0 * k / max(1, per - 1) - (i % 3) * 0.01
            grade = GRADES[min(3, k * 4 // max(1, per))]
            colour = ("green", "yellow", "red")[(i * 7) % 10 // 4] if i % 5 else "green"
            level1 = tuple(Level1Score(n, max(0.0, total - j * 1.5)) for j, n in enumerate(LEVEL1))
            rows.append(RankRow(k + 1, f"u{i}", unit_name(i), total, grade, colour, level1))
        counts = {g: sum(1 for r in rows if r.grade == g) for g in GRADES}
        board = tuple(
            sorted(
                (BoardCell(r.unit_name, r.colour or "green") for r in rows),
                key=lambda b: {"red": 0, "yellow": 1, "green": 2}[b.colour],
            )
        )
        previous = {r.unit_id: (r.rank + (int(r.unit_id[1:]) * 13) % 9 - 4) for r in rows if r.rank}
        risers, fallers = bulletin.movers(tuple(rows), {k: v for k, v in previous.items() if v > 0})
        cats.append(
            Category(
                CATEGORIES[c % len(CATEGORIES)] + ("" if c < len(CATEGORIES) else str(c)),
                tuple(rows),
                GradeCounts(per, max(1, per * 3 // 10), counts),
                board,
                risers,
                fallers,
            )
        )
    heading = Heading(
        office="晋城市考核工作领导小组办公室",
        number="晋城考办〔2026〕3号",
        title="关于2026年第一季度目标责任考核结果的通报",
        recipients="各县（市、区）考核办，市直各部门",
        date="2026年4月10日",
        preliminary=preliminary,
        published_note=None if preliminary else "本通报依据已发布的考核结果（快照 s-0001）。",
    )
    return Bulletin(heading, "2026年度目标责任考核方案", "2026年第1季度", "2025年第4季度", tuple(cats))


def synthetic_slip() -> Slip:
    def curve(behind: float) -> tuple[PacePoint, ...]:
        return tuple(PacePoint(f"{m}月", m / 12, max(0.0, m / 12 - behind * m / 3)) for m in range(1, 4))

    heading = Heading(
        office="晋城市考核工作领导小组办公室",
        number="晋城考办预〔2026〕7号",
        title="序时进度预警单",
        recipients="城区人民政府",
        date="2026年4月10日",
        preliminary=True,
    )
    lag = (
        Lagging("GDP", "地区生产总值", "红色预警", 0.25, 0.12, 0.13, curve(0.13)),
        Lagging("FAI", "固定资产投资", "黄色预警", 0.25, 0.19, 0.06, curve(0.06)),
    )
    return Slip(heading, "warning", "城区", "2026年第1季度", 81.5, 12, 14, lag)


def timed(fn: Any, runs: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def pages(pdf: Any) -> int:
    """Pages as a reader counts them (and the renderer's own count must agree)."""
    n = len(PdfReader(io.BytesIO(pdf.data)).pages)
    assert n == pdf.pages, (n, pdf.pages)
    return n


async def issue_end_to_end(nats_url: str, units: int, quick: bool) -> dict[str, Any]:
    """A city with `units` townships in four categories, one month approved and ranked by the real services;
    then the bulletin issued through the documents service (RPC reads, render, S3 write, 文号), timed."""
    from kaohe import bus, natsauth
    from kaohe.rpc import RpcClient
    from tests.support.seed import SYSTEM, Book, approve_values, scheme_body

    nc = await bus.connect(nats_url, name="bench-documents", identity=natsauth.admin_identity())
    client = RpcClient(nc, timeout_s=120)

    async def call(service: str, method: str, params: dict[str, Any]) -> Any:
        return await client.call(service, method, params, SYSTEM)

    tag = uuid.uuid4().hex[:6].upper()
    try:
        city = f"C{tag}"
        await call("indicators", "unit_create", {"id": f"P{tag}", "name": "省", "kind": "province"})
        await call(
            "indicators", "unit_create", {"id": city, "name": "市", "kind": "city", "parent_id": f"P{tag}"}
        )
        members = [f"{city}{i:04d}" for i in range(units)]
        sem = asyncio.Semaphore(32)

        async def create(i: int, u: str) -> None:
            async with sem:
                await call(
                    "indicators",
                    "unit_create",
                    {"id": u, "name": unit_name(i), "kind": "township", "parent_id": city},
                )

        await asyncio.gather(*(create(i, u) for i, u in enumerate(members)))
        cats = list(CATEGORIES)
        roster = {u: cats[i % len(cats)] for i, u in enumerate(members)}
        await call(
            "indicators",
            "categories_set",
            {
                "assessing_unit": city,
                "year": 2026,
                "categories": [{"name": c} for c in cats],
                "members": roster,
            },
        )
        body = scheme_body(city, cats[0], f"D{tag}") | {"categories": cats}
        saved = await call(
            "indicators", "scheme_save", {"assessing_unit": city, "year": 2026, "scheme": body}
        )
        if saved["problems"]:
            raise RuntimeError(saved["problems"])
        sid = str(saved["scheme"]["id"])
        await call("indicators", "scheme_publish", {"scheme_id": sid})
        leaves = [str(c["code"]) for n in body["trunk"] for c in n["children"]]
        book = Book(sid, city, cats[0], members, leaves[::2] if quick else leaves)
        t = time.perf_counter()
        n = await approve_values(call, book, ["2026-03"], concurrency=32)
        print(f"[bench] {n} values approved in {time.perf_counter() - t:.1f}s", file=sys.stderr, flush=True)
        deadline = time.monotonic() + 300
        while True:  # every unit ranked in its category
            grades = await call("scoring", "grades", {"scheme_id": sid, "period": "2026-03"})
            if sum(g["of"] for g in grades) == units and len(grades) == len(cats):
                break
            if time.monotonic() > deadline:
                raise TimeoutError("scoring did not rank every unit")
            await asyncio.sleep(1)
        params = {
            "scheme_id": sid,
            "period": "2026-03",
            "office": "某市考核工作领导小组办公室",
            "office_code": "某考办",
        }
        times, doc = [], None
        for _ in range(1 if quick else 3):
            t = time.perf_counter()
            doc = await client.call("documents", "bulletin_issue", params, SYSTEM, timeout_s=120)
            times.append(time.perf_counter() - t)
        assert doc is not None
        return {
            "e2e_bulletin_s": round(statistics.median(times), 3),
            "e2e_units": units,
            "e2e_pages": doc["pages"],
        }
    finally:
        await nc.close()


def end_to_end(units: int, quick: bool) -> dict[str, Any]:
    from bench._stack import start_infra

    stack = start_infra()
    try:
        stack.env.setdefault("KAOHE_LOG_LEVEL", "WARNING")
        stack.start_components()
        return asyncio.run(issue_end_to_end(stack.urls["nats"], units, quick))
    finally:
        stack.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one run each, a 1,000-unit 'province'")
    ap.add_argument("--no-e2e", action="store_true", help="skip the end-to-end issue on the real services")
    args = ap.parse_args()
    runs = 1 if args.quick else 3
    say = lambda m: print(f"[bench] {m}", file=sys.stderr, flush=True)  # noqa: E731
    t = time.perf_counter()
    bulletin.render_bulletin(synthetic_bulletin(8, 2))
    first = time.perf_counter() - t
    city = synthetic_bulletin(300, 4, preliminary=True)
    city_s, city_pdf = timed(lambda: bulletin.render_bulletin(city), runs)
    say(f"city bulletin: {city_s:.2f} s")
    n = 1000 if args.quick else 3000
    province = synthetic_bulletin(n, 4)
    prov_s, prov_pdf = timed(lambda: bulletin.render_bulletin(province), 1 if args.quick else 2)
    say(f"province bulletin ({n} units): {prov_s:.2f} s")
    slip_s, _ = timed(lambda: slips.render_slip(synthetic_slip()), runs)
    result: dict[str, Any] = {
        "bulletin_s": round(city_s, 3),
        "province_bulletin_s": round(prov_s, 3),
        "province_units": n,
        "pages": pages(city_pdf),
        "province_pages": pages(prov_pdf),
        "slip_s": round(slip_s, 3),
        "first_render_s": round(first, 3),
        "bulletin_bytes": len(city_pdf.data),
        "quick": args.quick,
        "load_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    if not args.no_e2e:
        say("end to end: a city of 300 units in four categories through the real services")
        try:
            result.update(end_to_end(60 if args.quick else 300, args.quick))
        except Exception as e:  # the rendering figures above still stand; say why this one is missing
            result["e2e_error"] = f"{type(e).__name__}: {e}"[:300]
    try:
        fanout = importlib.import_module("bench.fanout")
    except ModuleNotFoundError:
        result["fanout_per_s"] = None  # bench/fanout.py (notifications) has not landed
    else:
        result.update(fanout.measure(args.quick))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
