"""Score explanation (得分反查): a trace tree from a unit's total down to every leaf and its evidence.

Each node holds its `value` and its `contribution` to the parent (weight × multiplier × value when it
has a weight); a parent's value is the sum of its children's contributions, which check_trace verifies.
The canonical form is JSON with sorted keys, floats written with exactly 6 decimals and no NaN, so the
same inputs always give byte-identical bytes and the same sha256 digest (tamper-evident record).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kaohe.contracts.standards import Standard

from .composition import PeriodResult
from .ranking import Ranked
from .rollup import NodeResult, UnitResult
from .rules import NOTES_ZH, LeafInput, LeafResult

TOLERANCE = 1e-6


@dataclass(frozen=True)
class TraceNode:  # 得分反查节点
    """One step of a score's explanation."""

    code: str
    name: str
    kind: str
    value: float
    contribution: float
    weight: float | None = None
    multiplier: float = 1.0
    details: Mapping[str, Any] = field(default_factory=dict)
    children: tuple[TraceNode, ...] = ()

    def canonical(self) -> bytes:
        """Canonical bytes of this trace."""
        return canonical_bytes(self)

    def digest(self) -> str:
        """sha256 hex digest of the canonical bytes."""
        return digest(self)


def _f(x: float | None) -> float | None:
    """Floats stay floats, so 10 and 10.0 from different loaders serialize the same way."""
    return None if x is None else float(x)


def _notes(notes: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"code": n, "text": NOTES_ZH.get(n, n)} for n in notes]


def _leaf_details(node: NodeResult, leaf: LeafResult, std: Standard | None, inp: LeafInput | None) -> dict:
    details: dict[str, Any] = {
        "overridden_weight": node.overridden,
        "result": {
            "score": _f(leaf.score),
            "fraction": _f(leaf.fraction),
            "ratio": _f(leaf.ratio),
            "notes": _notes(leaf.notes),
            "bonus": _f(leaf.bonus),
            "veto_grade": leaf.veto_grade,
            "role": leaf.role,
            "value": _f(leaf.value),
            "rank": leaf.rank,
            "rank_of": leaf.rank_of,
            "detail": leaf.detail,
        },
    }
    if std is not None:
        details["rule"] = std.model_dump(mode="json")
    if inp is not None:
        details["inputs"] = {
            "full": _f(inp.full),
            "value": _f(inp.value),
            "target": _f(inp.target),
            "direction": inp.direction,
            "peers": len(inp.peers),
            "previous_rank": inp.previous_rank,
            "grade": inp.grade,
            "occurrences": inp.occurrences,
            "elements": {f"{r.name}@{r.lag}": _f(v) for r, v in inp.elements.items()},
            "evidence_ids": list(inp.evidence_ids),
        }
        if inp.due_fraction is not None:  # 年度目标按序时进度分解: target is the share due so far
            details["inputs"]["annual_target"] = _f(inp.annual_target)
            details["inputs"]["due_fraction"] = _f(inp.due_fraction)
            details["inputs"]["due_target"] = _f(inp.target)
    return details


def _node(node: NodeResult, standards: Mapping[str, Standard], inputs: Mapping[str, LeafInput]) -> TraceNode:
    if node.leaf is not None:
        details = _leaf_details(node, node.leaf, standards.get(node.code), inputs.get(node.code))
        return TraceNode(
            node.code, node.name, "leaf", node.score, node.contribution, node.weight, 1.0, details
        )
    kids = tuple(_node(c, standards, inputs) for c in node.children)
    details = {"overridden_weight": node.overridden, "depth": node.depth}
    return TraceNode(
        node.code,
        node.name,
        f"level{node.depth}",
        node.score,
        node.contribution,
        node.weight,
        1.0,
        details,
        kids,
    )


def build_trace(
    result: UnitResult,
    *,
    standards: Mapping[str, Standard] | None = None,
    inputs: Mapping[str, LeafInput] | None = None,
    ranking: Ranked | None = None,
    category: str | None = None,
) -> TraceNode:
    """Explain one unit's total: indicators, 平时督查, bonus, penalty, then rank, grade and quota."""
    s, c = result.supervision_weight, result.coefficient
    tree = _node(result.tree, standards or {}, inputs or {})
    indicators = TraceNode(
        tree.code,
        tree.name,
        "indicators",
        result.indicators,
        result.indicators_contribution,
        1.0 - s,
        c,
        {"coefficient": c},
        tree.children,
    )
    parts = [indicators]
    if s > 0:
        parts.append(
            TraceNode(
                "supervision",
                "平时督查",
                "supervision",
                result.supervision_score,
                result.supervision_contribution,
                s,
                c,
                {"coefficient": c},
            )
        )
    if result.bonus_items:
        items = [
            TraceNode(
                a.code,
                a.name,
                "bonus_item",
                a.points,
                a.points,
                details={"evidence_ids": list(a.evidence_ids)},
            )
            for a in result.bonus_items
        ]
        if result.bonus < result.bonus_raw:
            cut = result.bonus - result.bonus_raw
            items.append(TraceNode("bonus_cap", "加分封顶", "bonus_cap", cut, cut))
        details = {"raw": result.bonus_raw, "capped": result.bonus < result.bonus_raw}
        parts.append(
            TraceNode("bonus", "加分", "bonus", result.bonus, result.bonus, None, 1.0, details, tuple(items))
        )
    if result.penalty_items:
        items = [
            TraceNode(
                a.code,
                a.name,
                "penalty_item",
                a.points,
                a.points,
                details={"evidence_ids": list(a.evidence_ids)},
            )
            for a in result.penalty_items
        ]
        parts.append(
            TraceNode(
                "penalty", "扣分", "penalty", result.penalty, -result.penalty, -1.0, 1.0, {}, tuple(items)
            )
        )
    details: dict[str, Any] = {
        "unit_code": result.unit_code,
        "category": category,
        "coefficient": c,
        "supervision_weight": s,
        "veto_grade": result.veto_grade,
        "veto_codes": list(result.veto_codes),
    }
    if ranking is not None:
        details["ranking"] = {
            "rank": ranking.rank,
            "grade": ranking.grade,
            "threshold_grade": ranking.threshold_grade,
            "in_quota": ranking.in_quota,
            "last_place": ranking.last_place,
            "reasons": [{"code": r.code, "text": r.text} for r in ranking.reasons],
        }
    return TraceNode(
        result.unit_code, "总分", "total", result.total, result.total, None, 1.0, details, tuple(parts)
    )


def trace_period(result: PeriodResult, *, code: str, name: str) -> TraceNode:
    """Explain a composed quarterly or annual score by its parts."""
    parts = tuple(
        TraceNode(
            p.code, p.name, "period_part", p.value, p.contribution, p.weight, 1.0, {"inputs": list(p.inputs)}
        )
        for p in result.parts
    )
    return TraceNode(code, name, "period", result.score, result.score, None, 1.0, {}, parts)


# ---------------------------------------------------------------- canonical form


def _to_json(node: TraceNode) -> dict[str, Any]:
    return {
        "code": node.code,
        "name": node.name,
        "kind": node.kind,
        "value": _f(node.value),
        "contribution": _f(node.contribution),
        "weight": _f(node.weight),
        "multiplier": _f(node.multiplier),
        "details": node.details,
        "children": [_to_json(c) for c in node.children],
    }


# Floats travel through json.dumps as marked strings and are unquoted afterwards: one C-speed dumps
# call instead of one per value, with the fixed 6-decimal format json cannot produce by itself.
_MARK = "\x00"
_MARKED = re.compile(r'"\\u0000(-?[0-9]+\.[0-9]{6})\\u0000"')


def _prepare(obj: Any, path: str) -> Any:
    if obj is None or isinstance(obj, bool | int):
        return obj
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValueError(f"trace holds a non-finite number {obj} at {path}")
        text = f"{obj:.6f}"
        return f"{_MARK}{'0.000000' if text == '-0.000000' else text}{_MARK}"
    if isinstance(obj, str):
        if _MARK in obj:
            raise ValueError(f"trace text may not contain NUL characters, at {path}")
        return obj
    if isinstance(obj, Mapping):
        for key in obj:
            if not isinstance(key, str) or _MARK in key:
                raise TypeError(f"trace keys must be strings without NUL, got {key!r} at {path}")
        return {key: _prepare(value, f"{path}.{key}") for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [_prepare(item, f"{path}[{i}]") for i, item in enumerate(obj)]
    if hasattr(obj, "item"):  # a numpy scalar
        return _prepare(obj.item(), path)
    raise TypeError(f"trace cannot hold {type(obj).__name__} at {path}")


def canonical_bytes(trace: TraceNode) -> bytes:
    """Canonical UTF-8 JSON: sorted keys, no spaces, floats with 6 decimals, NaN refused."""
    text = json.dumps(
        _prepare(_to_json(trace), "$"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return _MARKED.sub(r"\1", text).encode("utf-8")


def digest(trace: TraceNode) -> str:
    """sha256 hex digest of canonical_bytes(trace)."""
    return hashlib.sha256(canonical_bytes(trace)).hexdigest()


def check_trace(trace: TraceNode, tolerance: float = TOLERANCE) -> bool:
    """True when every parent equals the sum of its children's contributions, each weight × value."""
    stack = [trace]
    while stack:
        node = stack.pop()
        for child in node.children:
            if child.weight is not None:
                expected = child.weight * child.multiplier * child.value
                if abs(child.contribution - expected) > tolerance:
                    return False
            stack.append(child)
        if node.children and abs(math.fsum(c.contribution for c in node.children) - node.value) > tolerance:
            return False
    return True
