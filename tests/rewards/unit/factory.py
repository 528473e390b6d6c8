"""Small builders for rewards domain tests."""

from __future__ import annotations

from typing import Any

from services.rewards.domain.inputs import Cadre, Snapshot, SnapshotRow
from services.rewards.domain.rules import RuleSet, parse_ruleset

DIGEST = "a" * 64


def row(uid: str, grade: str | None, rank: int | None, of: int | None, **kw: Any) -> SnapshotRow:
    kw.setdefault("category", "乡镇")
    kw.setdefault("total", 100.0 - (rank or 0))
    return SnapshotRow(unit_id=uid, grade=grade, rank=rank, of=of, **kw)


def snap(rows: list[SnapshotRow], period: str = "2026-Q1", digest: str = DIGEST) -> Snapshot:
    return Snapshot("scheme-1", period, f"snap-{digest[:6]}", digest, rows)


def cadre(key: str, uid: str, *, grade: str | None = None, post: str = "一般干部", pay: int = 1000) -> Cadre:
    return Cadre(f"pk-{key}-0000", uid, post, "科员", pay, grade)


def pk(key: str) -> str:
    return f"pk-{key}-0000"


def ruleset(*rules: dict[str, Any], year: int = 2026, version: int = 1) -> RuleSet:
    return parse_ruleset({"assessing_unit": "jc", "year": year, "version": version, "rules": list(rules)})


QPAY = {
    "kind": "quarterly_pay",
    "id": "qpay",
    "basis": "《恒口示范区薪酬绩效考核办法》第五条",
    "adjust": {"优秀": "0.10", "较差": "-0.10"},
}
WITHHOLD = {
    "kind": "withholding",
    "id": "hold",
    "basis": "《恒口示范区季度考核办法》暂扣薪酬",
    "share": "0.3",
    "release": {"优秀": "1", "良好": "1", "一般": "0.8", "较差": "0.5"},
}
ZERO = {"kind": "last_place_zero", "id": "zero", "basis": "阳泉高新区 末位零绩效"}
COEF = {
    "kind": "coefficient",
    "id": "coef",
    "basis": "阳泉高新区 一线部门考核系数",
    "by_unit_kind": {"招商": "1.2"},
}


def pay_of(pl: Any, uid: str | None = None) -> dict[str, int]:
    return {
        ln.person_key: ln.amount_fen
        for ln in pl.lines
        if ln.kind == "pay" and (uid is None or ln.unit_id == uid)
    }
