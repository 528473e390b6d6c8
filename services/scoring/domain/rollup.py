"""Roll-up (汇总): leaf → level-2 → level-1 → unit total, for one unit or for a whole category at once.

Every node scores on a 0..100 scale (百分制): a leaf scores 100 × its fraction; a parent scores
Σ weight × child score, where `weight` is the child's share of its parent (siblings sum to 1). A scheme
authored in points (level-1 40 分, leaf 10 分) converts to shares by dividing by the parent's points.

    indicators = Σ level-1 weight × level-1 score
    assessed   = coefficient × ((1 − s) × indicators + s × supervision)     # 评价系数/考核系数, 平时督查
    total      = assessed + min(bonus, bonus_cap) − penalty                  # 加分 / 扣分 after weighting
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from kaohe.contracts.standards import GRADES

from .rules import FloatArray, LeafResult

WEIGHT_TOLERANCE = 1e-9


class RollupError(ValueError):
    """A scheme or unit input that cannot be rolled up (weights not summing to 1, a missing leaf…)."""


@dataclass(frozen=True)
class ScoreNode:  # 指标节点: the scheme root, a level-1 (一级指标) or level-2 (二级指标) indicator, or a leaf
    """One node of a scheme; bonus (加分) and veto (一票否决) leaves carry weight 0."""

    code: str
    name: str
    weight: float = 1.0
    children: tuple[ScoreNode, ...] = ()


@dataclass(frozen=True)
class Adjustment:  # 加分项 / 扣分项
    """Points added (bonus) or subtracted (penalty) after weighting; `points` is never negative."""

    code: str
    name: str
    points: float
    kind: Literal["bonus", "penalty"] = "bonus"
    evidence_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class RollupConfig:
    """Scheme-wide roll-up settings."""

    supervision_weight: float = 0.0  # 平时督查 share of the total, e.g. 0.1
    bonus_cap: float | None = None  # 争先创优: most bonus points a unit can collect


@dataclass(frozen=True)
class UnitInputs:
    """One unit's own roll-up inputs."""

    unit_code: str
    weight_overrides: Mapping[str, float] = field(default_factory=dict)  # 差异化权重, by node code
    coefficient: float = 1.0  # 评价系数 / 考核系数
    supervision_score: float | None = None  # 平时督查 score, 0..100
    adjustments: tuple[Adjustment, ...] = ()


@dataclass(frozen=True)
class NodeResult:
    """A node's score (0..100 scale) and its contribution (weight × score) to its parent."""

    code: str
    name: str
    depth: int  # 0 root, 1 level-1, 2 level-2, …
    weight: float
    overridden: bool
    score: float
    contribution: float
    children: tuple[NodeResult, ...] = ()
    leaf: LeafResult | None = None


@dataclass(frozen=True)
class UnitResult:
    """A unit's rolled-up result; `tree` is the indicator part (its score is `indicators`)."""

    unit_code: str
    tree: NodeResult
    indicators: float
    supervision_weight: float
    supervision_score: float
    coefficient: float
    indicators_contribution: float
    supervision_contribution: float
    assessed: float
    bonus_items: tuple[Adjustment, ...]
    bonus_raw: float
    bonus: float
    penalty_items: tuple[Adjustment, ...]
    penalty: float
    total: float
    veto_grade: str | None
    veto_codes: tuple[str, ...]


def walk(node: ScoreNode) -> Iterator[ScoreNode]:
    """Pre-order walk of a scheme."""
    stack = [node]
    while stack:
        cur = stack.pop()
        yield cur
        stack.extend(reversed(cur.children))


def from_points(root: ScoreNode) -> ScoreNode:
    """Convert a scheme whose weights are points (分值) into shares: child points / siblings' points."""

    def convert(node: ScoreNode, share: float) -> ScoreNode:
        total = math.fsum(c.weight for c in node.children)
        kids = tuple(convert(c, c.weight / total if total > 0 else 0.0) for c in node.children)
        return ScoreNode(node.code, node.name, share, kids)

    return convert(root, 1.0)


def validate_scheme(root: ScoreNode, overrides: Mapping[str, float] | None = None) -> None:
    """Check codes are unique, weights are ≥ 0 and every weighted group of siblings sums to 1."""
    overrides = overrides or {}
    seen: set[str] = set()
    for node in walk(root):
        if node.code in seen:
            raise RollupError(f"indicator code {node.code!r} appears twice in the scheme")
        seen.add(node.code)
    unknown = sorted(set(overrides) - seen)
    if unknown or root.code in overrides:
        raise RollupError(f"weight overrides name no indicator below the root: {unknown or [root.code]}")

    def weight(n: ScoreNode) -> float:
        return overrides.get(n.code, n.weight)

    for node in walk(root):
        w = weight(node)
        if not (math.isfinite(w) and w >= 0):
            raise RollupError(f"weight of {node.code!r} ({node.name}) must be a finite number ≥ 0, got {w}")
        if node.children and (node is root or w > 0):
            total = math.fsum(weight(c) for c in node.children)
            if abs(total - 1.0) > WEIGHT_TOLERANCE:
                parts = " + ".join(f"{c.code} {weight(c):g}" for c in node.children)
                raise RollupError(
                    f"weights under {node.code!r} ({node.name}) sum to {total:.6g}, expected 1: {parts}"
                )


def _roll(
    node: ScoreNode, depth: int, leaves: Mapping[str, LeafResult], overrides: Mapping[str, float]
) -> NodeResult:
    overridden = node.code in overrides
    weight = overrides[node.code] if overridden else (1.0 if depth == 0 else node.weight)
    if not node.children:
        leaf = leaves.get(node.code)
        if leaf is None:
            raise RollupError(f"no leaf result for {node.code!r} ({node.name})")
        if leaf.role != "scored" and weight > 0:
            raise RollupError(f"{leaf.role} leaf {node.code!r} carries weight {weight}; it must be 0")
        score = 100.0 * leaf.fraction
        return NodeResult(node.code, node.name, depth, weight, overridden, score, weight * score, (), leaf)
    kids = tuple(_roll(c, depth + 1, leaves, overrides) for c in node.children)
    score = 0.0
    for kid in kids:  # sequential, in scheme order, so the batch path can reproduce it bit for bit
        score += kid.contribution
    return NodeResult(node.code, node.name, depth, weight, overridden, score, weight * score, kids)


def _leaf_nodes(node: NodeResult) -> Iterator[NodeResult]:
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.leaf is not None:
            yield cur
        stack.extend(reversed(cur.children))


def _check_unit(unit: UnitInputs, config: RollupConfig) -> float:
    s = config.supervision_weight
    if not 0.0 <= s < 1.0:
        raise RollupError(f"supervision weight must be in [0, 1), got {s}")
    if not (math.isfinite(unit.coefficient) and unit.coefficient > 0):
        raise RollupError(f"coefficient of {unit.unit_code!r} must be > 0, got {unit.coefficient}")
    sup = unit.supervision_score
    if s > 0 and sup is None:
        raise RollupError(f"unit {unit.unit_code!r} has no 平时督查 score but it weighs {s}")
    if sup is not None and not 0.0 <= sup <= 100.0:
        raise RollupError(f"平时督查 score of {unit.unit_code!r} must be within 0..100, got {sup}")
    for adj in unit.adjustments:
        if not (math.isfinite(adj.points) and adj.points >= 0):
            raise RollupError(f"adjustment {adj.code!r} must have points ≥ 0, got {adj.points}")
    return sup if sup is not None else 0.0


def rollup_unit(
    scheme: ScoreNode,
    leaves: Mapping[str, LeafResult],
    unit: UnitInputs,
    config: RollupConfig | None = None,
) -> UnitResult:
    """Roll one unit's leaf results up to its total."""
    config = config or RollupConfig()
    validate_scheme(scheme, unit.weight_overrides)
    sup = _check_unit(unit, config)
    tree = _roll(scheme, 0, leaves, unit.weight_overrides)
    s, c = config.supervision_weight, unit.coefficient
    ind_part = (1.0 - s) * c * tree.score
    sup_part = s * c * sup
    leaf_nodes = list(_leaf_nodes(tree))
    bonus_items = tuple(
        Adjustment(n.code, n.name, n.leaf.bonus, "bonus", ())
        for n in leaf_nodes
        if n.leaf is not None and n.leaf.bonus > 0
    ) + tuple(a for a in unit.adjustments if a.kind == "bonus")
    penalty_items = tuple(a for a in unit.adjustments if a.kind == "penalty")
    bonus_raw = math.fsum(a.points for a in bonus_items)
    bonus = bonus_raw if config.bonus_cap is None else min(bonus_raw, config.bonus_cap)
    penalty = math.fsum(a.points for a in penalty_items)
    vetoes = [n for n in leaf_nodes if n.leaf is not None and n.leaf.veto_grade is not None]
    veto_grade = max((n.leaf.veto_grade for n in vetoes if n.leaf), key=GRADES.index, default=None)
    assessed = ind_part + sup_part
    return UnitResult(
        unit_code=unit.unit_code,
        tree=tree,
        indicators=tree.score,
        supervision_weight=s,
        supervision_score=sup,
        coefficient=c,
        indicators_contribution=ind_part,
        supervision_contribution=sup_part,
        assessed=assessed,
        bonus_items=bonus_items,
        bonus_raw=bonus_raw,
        bonus=bonus,
        penalty_items=penalty_items,
        penalty=penalty,
        total=assessed + bonus - penalty,
        veto_grade=veto_grade,
        veto_codes=tuple(n.code for n in vetoes),
    )


# ---------------------------------------------------------------- batch path


@dataclass(frozen=True)
class CompiledScheme:
    """A scheme flattened for the batch path: nodes in pre-order, leaves as matrix columns."""

    root: ScoreNode
    codes: tuple[str, ...]
    leaf_codes: tuple[str, ...]
    weights: FloatArray  # default weight per node, root 1
    leaf_node: tuple[int, ...]  # node index of each leaf column
    groups: tuple[tuple[int, tuple[int, ...]], ...]  # (parent, children), children before parents


def compile_scheme(root: ScoreNode) -> CompiledScheme:
    """Validate and flatten a scheme once, for many units."""
    validate_scheme(root)
    nodes = list(walk(root))
    index = {n.code: i for i, n in enumerate(nodes)}
    weights = np.array([1.0 if n is root else n.weight for n in nodes])
    leaf_node = tuple(i for i, n in enumerate(nodes) if not n.children)
    groups = tuple(
        (index[n.code], tuple(index[c.code] for c in n.children)) for n in reversed(nodes) if n.children
    )
    leaf_codes = tuple(nodes[i].code for i in leaf_node)
    return CompiledScheme(root, tuple(index), leaf_codes, weights, leaf_node, groups)


@dataclass(frozen=True)
class BatchRollup:
    """Roll-up of many units: row u of every array is unit u; node_scores columns follow `codes`."""

    codes: tuple[str, ...]
    node_scores: FloatArray  # (units, nodes), 0..100 scale
    indicators: FloatArray
    assessed: FloatArray
    bonus: FloatArray
    penalty: FloatArray
    total: FloatArray


def rollup_batch(
    compiled: CompiledScheme,
    leaf_fractions: npt.ArrayLike,
    *,
    config: RollupConfig | None = None,
    coefficients: npt.ArrayLike = 1.0,
    supervision_scores: npt.ArrayLike | None = None,
    leaf_bonus: npt.ArrayLike | None = None,
    bonus: npt.ArrayLike | None = None,
    penalty: npt.ArrayLike | None = None,
    weight_overrides: Mapping[int, Mapping[str, float]] | None = None,
) -> BatchRollup:
    """Vectorised rollup_unit: leaf_fractions is (units, leaves) in `compiled.leaf_codes` order."""
    config = config or RollupConfig()
    fr = np.asarray(leaf_fractions, dtype=np.float64)
    n_units = fr.shape[0]
    if fr.ndim != 2 or fr.shape[1] != len(compiled.leaf_codes):
        raise RollupError(f"leaf fractions must be (units, {len(compiled.leaf_codes)}), got {fr.shape}")
    if np.isnan(fr).any():
        raise RollupError("leaf fractions contain NaN; score missing data as 0 before rolling up")
    w = _weight_matrix(compiled, n_units, weight_overrides or {})
    scores = np.empty((len(compiled.codes), n_units))
    scores[list(compiled.leaf_node)] = 100.0 * fr.T
    for parent, kids in compiled.groups:
        acc = np.zeros(n_units)
        for k in kids:  # same order and operations as rollup_unit, hence identical floats
            acc += w[k] * scores[k]
        scores[parent] = acc
    s = config.supervision_weight
    c = np.broadcast_to(np.asarray(coefficients, dtype=np.float64), (n_units,))
    if not 0.0 <= s < 1.0 or not (np.isfinite(c).all() and (c > 0).all()):
        raise RollupError("supervision weight must be in [0, 1) and coefficients > 0")
    if s > 0 and supervision_scores is None:
        raise RollupError(f"平时督查 weighs {s} but no supervision scores were given")
    sup = np.zeros(n_units) if supervision_scores is None else np.asarray(supervision_scores, np.float64)
    if not ((sup >= 0) & (sup <= 100)).all():
        raise RollupError("平时督查 scores must be within 0..100")
    assessed = (1.0 - s) * c * scores[0] + s * c * sup
    raw = np.zeros(n_units) if bonus is None else np.asarray(bonus, dtype=np.float64).copy()
    if leaf_bonus is not None:
        raw += np.asarray(leaf_bonus, dtype=np.float64).sum(axis=1)
    capped = raw if config.bonus_cap is None else np.minimum(raw, config.bonus_cap)
    pen = np.zeros(n_units) if penalty is None else np.asarray(penalty, dtype=np.float64)
    return BatchRollup(compiled.codes, scores.T, scores[0], assessed, capped, pen, assessed + capped - pen)


def _weight_matrix(
    compiled: CompiledScheme, n_units: int, overrides: Mapping[int, Mapping[str, float]]
) -> FloatArray:
    """Per-node weights, (nodes, units) only when some unit overrides a weight, else (nodes, 1)."""
    if not overrides:
        return compiled.weights[:, None]
    index = {code: i for i, code in enumerate(compiled.codes)}
    w = np.repeat(compiled.weights[:, None], n_units, axis=1)
    for unit, per_node in overrides.items():
        validate_scheme(compiled.root, per_node)
        for code, value in per_node.items():
            w[index[code], unit] = value
    return w
