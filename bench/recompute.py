"""Full recompute benchmark: a synthetic province scored end to end, against a one-query SQL floor.

    python -m bench.recompute [--quick]

30,000 units in 30 categories, 60 leaf indicators each (completion ratio, banded, deduction), three
months of cumulative values (5.4 M) loaded with binary COPY into scoring.value. Measured: the full
recompute of the quarter through the code path of the `recompute_start` RPC (values out with binary
COPY, numpy batch scoring, month roll-ups, quarter and year composition, rankings and grades per
category, 序时进度 warnings and their events, results written with COPY) — `wall_s`, `peak_rss_mb`
(the whole process) — and, in the same PostgreSQL, one SQL query computing the same quarterly roll-up
totals (`floor_s`); `max_abs_diff` compares the two sets of totals.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import struct
import sys
import time
from typing import Any

import asyncpg
import numpy as np

from bench._stack import peak_rss_mb, report, start_infra
from kaohe.contracts.indicators import SchemePublished
from kaohe.db import Database, asyncpg_dsn
from services.scoring.domain.config import AspectConfig, ScoringConfig
from services.scoring.repository import books, connection
from services.scoring.service.recompute import create_job, run_recompute

CITY, YEAR, QUARTER = "14", 2026, "2026-Q1"
MONTHS = ["2026-01", "2026-02", "2026-03"]
LEVEL1, PER_L1 = 6, 10  # 60 leaves


def say(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def scheme(categories: list[str]) -> dict[str, Any]:
    """6 level-1 indicators × 10 leaves: 40 completion (cap 1.2), 10 banded, 10 deduction; 100 points."""
    trunk = []
    for i in range(LEVEL1):
        kids = []
        for j in range(PER_L1):
            code = f"L{i}{j}"
            if j < 7 - (i % 2):  # completion ratio
                std: dict[str, Any] = {"type": "completion_ratio", "cap": 1.2}
            elif j < 9:
                std = {
                    "type": "banded",
                    "bands": [
                        {"min_ratio": 0.05, "fraction": 0.6},
                        {"min_ratio": 0.15, "fraction": 0.8},
                        {"min_ratio": 0.25, "fraction": 1.0},
                    ],
                }
            else:
                std = {"type": "deduction", "per_occurrence": 0.5}
            leaf = {"code": code, "name": f"指标{code}", "level": 2, "weight": 100 / 60, "standard": std}
            if std["type"] != "deduction":
                leaf["target"] = float(100 + 10 * j)
            kids.append(leaf)
        trunk.append({"code": f"L{i}", "name": f"一级指标{i}", "level": 1, "children": kids})
    return {"assessing_unit": CITY, "year": YEAR, "version": 1, "categories": categories, "trunk": trunk}


def roster(n_units: int, n_cats: int) -> list[dict[str, Any]]:
    return [
        {
            "unit_id": f"U{u:06d}",
            "name": f"单位{u}",
            "path": f"/14/{u % 100:02d}/U{u:06d}/",
            "category": f"C{u % n_cats:02d}",
        }
        for u in range(n_units)
    ]


def value_block(
    units: np.ndarray, month: int, body: dict[str, Any], code_no: dict[str, int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative progress: target × days elapsed / 365 × a factor around 1.1 (a few units lag)."""
    leaves = [leaf for l1 in body["trunk"] for leaf in l1["children"]]
    nu, nl = len(units), len(leaves)
    elapsed = [31, 59, 90][month - 1] / 365
    vals = np.empty((nu, nl))
    for j, leaf in enumerate(leaves):
        if leaf["standard"]["type"] == "deduction":
            vals[:, j] = rng.poisson(0.3, nu)
        else:
            vals[:, j] = np.round(leaf["target"] * elapsed * rng.normal(1.1, 0.1, nu), 3)
    cols = np.array([code_no[leaf["code"]] for leaf in leaves])
    return np.repeat(units, nl), np.tile(cols, nu), vals.ravel()


def copy_buffer(book: int, unit: np.ndarray, code: np.ndarray, period: str, value: np.ndarray) -> bytes:
    """PostgreSQL binary COPY of (book, unit_no, code_no, period, value): fixed-width numpy records."""
    p = period.encode()
    dt = np.dtype(
        [
            ("n", ">i2"),
            ("lb", ">i4"),
            ("b", ">i4"),
            ("lu", ">i4"),
            ("u", ">i4"),
            ("lc", ">i4"),
            ("c", ">i4"),
            ("lp", ">i4"),
            ("p", f"S{len(p)}"),
            ("lv", ">i4"),
            ("v", ">f8"),
        ]
    )
    rec = np.empty(len(unit), dtype=dt)
    rec["n"], rec["lb"], rec["b"], rec["lu"], rec["u"] = 5, 4, book, 4, unit
    rec["lc"], rec["c"], rec["lp"], rec["p"], rec["lv"], rec["v"] = 4, code, len(p), p, 8, value
    return b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0) + rec.tobytes() + struct.pack(">h", -1)


async def load(url: str, n_units: int, n_cats: int, months: int = 3) -> tuple[int, dict[str, Any], int]:
    """Scheme, roster and three months of values; returns (book, scheme body, values)."""
    conn = await asyncpg.connect(asyncpg_dsn(url), server_settings={"search_path": "scoring,public"})
    try:
        cats = [f"C{c:02d}" for c in range(n_cats)]
        body = scheme(cats)
        async with conn.transaction():
            published = SchemePublished.model_validate(
                {
                    "scheme_id": "bench-scheme",
                    "assessing_unit": CITY,
                    "year": YEAR,
                    "version": 1,
                    "scheme": body,
                    "units": roster(n_units, n_cats),
                    "published_at": "2026-01-15T08:00:00+00:00",
                    "published_by": "bench",
                }
            )
            book, _ = await books.store_scheme(conn, published, body=body)
            # The floor below is the classic composition: the quarter as the mean of its three monthly
            # roll-ups, each against the annual target. Configure the book that way (both documented
            # options of ScoringConfig, same code path) so ours and the floor compute the same totals.
            config = ScoringConfig(
                prorate_targets=False,
                quarter_aspects=[
                    AspectConfig(code="indicators", name="月度指标得分", weight=1.0, from_months="mean")
                ],
            )
            await conn.execute("UPDATE book SET config = $1 WHERE id = $2", config.model_dump_json(), book)
        codes = {
            r["code"]: r["code_no"]
            for r in await conn.fetch("SELECT code, code_no FROM book_code WHERE book = $1", book)
        }
        rng = np.random.default_rng(7)
        units = np.arange(n_units, dtype=np.int64)
        total = 0
        for m, period in enumerate(MONTHS[:months], start=1):
            for chunk in np.array_split(units, max(1, n_units // 5000)):
                u, c, v = value_block(chunk, m, body, codes, rng)
                await conn.copy_to_table(
                    "value",
                    schema_name="scoring",
                    source=io.BytesIO(copy_buffer(book, u, c, period, v)),
                    columns=["book", "unit_no", "code_no", "period", "value"],
                    format="binary",
                )
                total += len(u)
        await conn.execute("VACUUM (ANALYZE) scoring.value")  # steady state: hint bits and visibility map set
        return book, body, total
    finally:
        await conn.close()


FLOOR = """
SELECT v.unit_no, sum(w.share * CASE w.kind
    WHEN 0 THEN CASE WHEN v.value / w.target > w.cap THEN w.cap ELSE greatest(v.value / w.target, 0) END
    WHEN 1 THEN CASE WHEN v.value / w.target >= 0.25 THEN 1.0 WHEN v.value / w.target >= 0.15 THEN 0.8
                     WHEN v.value / w.target >= 0.05 THEN 0.6 ELSE 0 END
    ELSE (w.fullp - least(greatest(v.value, 0) * w.per_occ, w.fullp)) / w.fullp END) * 100.0 / 3 AS total
FROM scoring.value v JOIN bench_weight w ON w.code_no = v.code_no
WHERE v.book = $1 AND v.period = ANY($2::text[]) AND NOT v.withdrawn
GROUP BY v.unit_no
"""


async def floor(url: str, book: int, body: dict[str, Any]) -> tuple[float, dict[int, float]]:
    """One SQL query: the same weighted quarterly totals (mean of three monthly roll-ups)."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        codes = {
            r["code"]: r["code_no"]
            for r in await conn.fetch("SELECT code, code_no FROM scoring.book_code WHERE book = $1", book)
        }
        await conn.execute(
            "CREATE TEMP TABLE bench_weight (code_no int PRIMARY KEY, share float8, kind int, target float8,"
            " cap float8, per_occ float8, fullp float8)"
        )
        rows = []
        for l1 in body["trunk"]:
            for leaf in l1["children"]:
                std = leaf["standard"]
                kind = {"completion_ratio": 0, "banded": 1, "deduction": 2}[std["type"]]
                rows.append(
                    (
                        codes[leaf["code"]],
                        1 / 60,
                        kind,
                        leaf.get("target", 1.0),
                        std.get("cap", 1.0),
                        std.get("per_occurrence", 0.0),
                        leaf["weight"],
                    )
                )
        await conn.copy_records_to_table("bench_weight", records=rows)
        await conn.execute("ANALYZE bench_weight")
        t = time.perf_counter()
        got = await conn.fetch(FLOOR, book, MONTHS)
        return time.perf_counter() - t, {r["unit_no"]: r["total"] for r in got}
    finally:
        await conn.close()


def main(quick: bool) -> None:
    stack = start_infra()
    try:
        asyncio.run(measure(stack.urls["database"], quick))
    finally:
        stack.stop()


async def measure(url: str, quick: bool) -> None:
    n_units, n_cats = (3000, 10) if quick else (30000, 30)
    if True:
        t = time.perf_counter()
        book, body, n_values = await load(url, n_units, n_cats)
        say(
            f"loaded {n_units} units × 60 leaves × 3 months = {n_values} values in"
            f" {time.perf_counter() - t:.1f}s"
        )
        db = Database(url, schema="scoring", pool_size=2)
        async with db.uow() as s:
            job = await create_job(
                await connection.raw(s),
                book=book,
                scheme_id="bench-scheme",
                period=QUARTER,
                requested_by="bench",
            )
        t = time.perf_counter()
        out = await run_recompute(db, "bench", job, book, QUARTER)
        wall = time.perf_counter() - t
        rss = peak_rss_mb()
        async with db.uow() as s:
            c = await connection.raw(s)
            status = await c.fetchrow(
                "SELECT status, error, done_units, total_units FROM job WHERE id = $1", job
            )
            ours = {
                r["unit_no"]: r["total"]
                for r in await c.fetch(
                    "SELECT unit_no, total FROM result WHERE book = $1 AND period = $2", book, QUARTER
                )
            }
            events = await c.fetchval("SELECT count(*) FROM outbox")
            warnings = await c.fetchval("SELECT count(*) FROM warning WHERE book = $1", book)
        await db.dispose()
        if status["status"] != "done":
            raise SystemExit(f"recompute failed: {status['error']}")
        say(f"recompute {wall:.2f}s: {out.rows} result rows, {warnings} warnings, {events} events")
        floor_s, theirs = await floor(url, book, body)
        diff = max(abs(ours[u] - theirs[u]) for u in theirs)
        say(f"SQL floor {floor_s:.2f}s; max |ours − floor| = {diff:.2e} over {len(theirs)} units")
        report(
            {
                "benchmark": "recompute",
                "quick": quick,
                "units": n_units,
                "values": n_values,
                "wall_s": round(wall, 3),
                "peak_rss_mb": round(rss, 1),
                "floor_s": round(floor_s, 3),
                "ratio_to_sql_floor": round(wall / floor_s, 2),
                "max_abs_diff": diff,
                "result_rows": out.rows,
                "warnings": warnings,
                "events": events,
            }
        )


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3,000 units (under a minute)")
    main(ap.parse_args().quick)
