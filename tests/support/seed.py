"""Results seeding for gateway tests and the benchmark, through the real services.

A scheme is published by the indicators service (categories, save, publish → `scheme.published`), values
are submitted and approved there (→ `submission.approved`), and scoring turns them into rankings, grades,
the 三色榜 and warnings. Nothing is written behind the services' backs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from kaohe.identity import Caller, Role

Call = Callable[[str, str, dict[str, Any]], Awaitable[Any]]  # (service, method, params) -> result
SYSTEM = Caller(user_id="seed", roles=frozenset({Role.system}), org_path="/")
YEAR = 2026
# (level-1 code suffix, name, [(leaf suffix, name, weight, target or None for a 扣分 leaf)])
TREE: tuple[tuple[str, str, tuple[tuple[str, str, float, float | None], ...]], ...] = (
    ("ECO", "经济发展", (("GDP", "地区生产总值", 30, 100.0), ("FAI", "固定资产投资", 30, 50.0))),
    ("GOV", "社会治理", (("SVC", "政务服务", 20, 10.0), ("SAFE", "安全生产", 20, None))),
)


@dataclass
class Book:
    """A published scheme as scoring sees it: id, category, members and the leaf codes."""

    scheme_id: str
    assessing_unit: str
    category: str
    members: list[str]
    leaves: list[str]


def scheme_body(assessing_unit: str, category: str, tag: str) -> dict[str, Any]:
    """Two level-1 indicators (一级指标), four leaves; completion leaves follow a linear 序时进度."""
    trunk = []
    for code, name, leaves in TREE:
        children = []
        for leaf, lname, weight, target in leaves:
            node: dict[str, Any] = {"code": f"{tag}{leaf}", "name": lname, "level": 2, "weight": weight}
            if target is None:
                node["standard"] = {"type": "deduction", "per_occurrence": 2}
            else:
                node.update(target=target, standard={"type": "completion_ratio", "cap": 1.2})
            children.append(node)
        weight = sum(x[2] for x in leaves)
        trunk.append(
            {"code": f"{tag}{code}", "name": name, "level": 1, "weight": weight, "children": children}
        )
    return {
        "assessing_unit": assessing_unit,
        "year": YEAR,
        "name": f"{YEAR}年度目标责任考核 ({tag})",
        "categories": [category],
        "trunk": trunk,
    }


def value_of(i: int, leaf: str) -> float:
    """Deterministic, varied values: some units behind 序时进度 (yellow/red), some ahead."""
    k = (i * 37 + len(leaf) * 11) % 100
    if leaf.endswith("SAFE"):
        return float(k % 3)
    if leaf.endswith("GDP"):
        return 10.0 + k * 1.1
    if leaf.endswith("FAI"):
        return 5.0 + (k % 50) * 0.9
    return 2.0 + (k % 10) * 0.8


async def publish_book(
    call: Call, *, assessing_unit: str, members: list[str], tag: str, category: str = "县区"
) -> Book:
    """Set the year's categories, save and publish the scheme; returns its id and leaf codes."""
    ind = "indicators"
    await call(
        ind,
        "categories_set",
        {
            "assessing_unit": assessing_unit,
            "year": YEAR,
            "categories": [{"name": category}],
            "members": dict.fromkeys(members, category),
        },
    )
    body = scheme_body(assessing_unit, category, tag)
    saved = await call(ind, "scheme_save", {"assessing_unit": assessing_unit, "year": YEAR, "scheme": body})
    if saved["problems"]:
        raise RuntimeError(f"scheme problems: {saved['problems']}")
    sid = str(saved["scheme"]["id"])
    await call(ind, "scheme_publish", {"scheme_id": sid})
    leaves = [str(c["code"]) for n in body["trunk"] for c in n["children"]]
    return Book(sid, assessing_unit, category, list(members), leaves)


async def approve_values(
    call: Call,
    book: Book,
    periods: list[str],
    *,
    value: Callable[[int, str], float] = value_of,
    concurrency: int = 16,
) -> int:
    """Submit and approve every leaf of every member for the periods (as the indicators service's users)."""
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int, unit: str, leaf: str, period: str) -> None:
        async with sem:
            params = {
                "unit_id": unit,
                "indicator_code": leaf,
                "period": period,
                "value": value(i + len(period), leaf),
                "assessing_unit": book.assessing_unit,
            }
            sub = await call("indicators", "submission_create", params)
            await call("indicators", "submission_approve", {"submission_id": sub["id"]})

    jobs = [one(i, u, leaf, p) for p in periods for i, u in enumerate(book.members) for leaf in book.leaves]
    await asyncio.gather(*jobs)
    return len(jobs)


async def wait_ranked(call: Call, book: Book, period: str, *, within: float = 60.0) -> list[dict[str, Any]]:
    """Poll scoring until every member is ranked with its level-1 breakdown and the page is stable."""
    deadline = time.monotonic() + within
    rows: list[dict[str, Any]] = []
    previous: list[dict[str, Any]] | None = None
    while time.monotonic() < deadline:
        try:
            page = await call(
                "scoring",
                "ranking",
                {"scheme_id": book.scheme_id, "period": period, "category": book.category, "first": 500},
            )
            rows = page["items"]
            full = len(rows) == len(book.members) and all(r["level1"] for r in rows)
            if full and rows == previous:
                return rows
            previous = rows
        except Exception:  # scoring may not know the scheme yet
            pass
        await asyncio.sleep(0.2)
    raise TimeoutError(f"scoring ranked {len(rows)} of {len(book.members)} units in {period}")
