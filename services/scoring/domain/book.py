"""A results book compiled for scoring (计分模型): the scheme's trees per category or unit, leaves, units.

A book is one assessing unit's year. Units that share their category's tree (no unit supplements or
weight overrides — 个性指标, 差异化赋分) are scored together as one group; the others get their own tree.
Per-unit targets and coefficients (评价系数 / 考核系数) do not change the tree and stay per unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from kaohe.contracts.scheme import (
    EffectiveLeaf,
    Scheme,
    all_indicators,
    effective_leaves,
    unit_coefficient,
)
from kaohe.contracts.standards import Banded, Bonus, CompletionRatio, Deduction, Schedule, Standard
from services.scoring.domain.config import ScoringConfig
from services.scoring.domain.rollup import CompiledScheme, ScoreNode, compile_scheme, from_points

ROOT_CODE, ROOT_NAME = "indicators", "指标得分"


@dataclass(frozen=True)
class LeafSpec:  # 计分指标
    """One scored leaf of a group's tree, with its column (code_no) in the value matrix."""

    code: str
    code_no: int
    name: str
    full: float  # 分值 (points after overrides); 0 for 加分 / 一票否决
    standard: Standard | None
    direction: str
    target: float | None
    schedule: Schedule
    counted: bool


@dataclass(frozen=True)
class NodeWeight:  # 分值 of an indicator node for a group, beside its category's (差异化赋分)
    """Points (分值: the sum of its counted leaves' points) and share of the parent (0..1), the group's
    and its category's (None where the category has no such node)."""

    points: float
    share: float
    category_points: float | None
    category_share: float | None

    @property
    def overridden(self) -> bool:
        """The unit's 分值 differs from its category's (an override, or a 个性指标 under the node)."""
        return self.category_points is None or abs(self.points - self.category_points) > 1e-9


@dataclass(frozen=True)
class Level1:  # 一级指标
    code: str
    name: str
    weight: float  # share of the indicator part
    node: int  # column in BatchRollup.node_scores
    points: float = 0.0  # 分值, as the scheme is written
    category_weight: float | None = None  # the category's share (差异化赋分 changes the unit's)
    category_points: float | None = None

    @property
    def overridden(self) -> bool:
        return self.category_points is None or abs(self.points - self.category_points) > 1e-9


@dataclass(frozen=True)
class Group:
    """Units scored with one tree: a category's shared tree or one unit's own."""

    key: str
    root: ScoreNode
    compiled: CompiledScheme
    leaves: tuple[LeafSpec, ...]  # in compiled.leaf_codes order
    level1: tuple[Level1, ...]
    weights: Mapping[str, NodeWeight]  # every node below the root, by code
    # Leaves scored together by the batch rules: same numeric standard and direction (tree order)
    buckets: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class UnitInfo:
    unit_no: int
    unit_id: str
    name: str
    path: str
    category: str
    group: str
    coefficient: float
    targets: Mapping[int, float] = field(default_factory=dict)  # per-unit targets by code_no


@dataclass(frozen=True)
class Roster:
    """The units as arrays by unit_no for the batch path (−1 / NaN where no unit is scored)."""

    group: np.ndarray  # group number by unit_no
    keys: tuple[str, ...]  # group number → group key
    coefficient: np.ndarray  # 评价系数 by unit_no
    unit_id: list[str | None]  # by unit_no
    targeted: frozenset[int]  # units with their own targets (目标分解)


@dataclass
class BookModel:
    """Everything the scorer needs about one book, built once per scheme version and config."""

    book: int
    scheme_id: str
    version: int
    scheme: Scheme
    config: ScoringConfig
    units: dict[int, UnitInfo]
    by_id: dict[str, int]
    groups: dict[str, Group]
    code_no: dict[str, int]
    n_codes: int

    def unit(self, unit_id: str) -> UnitInfo | None:
        no = self.by_id.get(unit_id)
        return None if no is None else self.units.get(no)

    def categories(self) -> list[str]:
        return sorted({u.category for u in self.units.values()})

    @cached_property
    def leaf_names(self) -> dict[str, str]:
        """Indicator code → name, over every group's leaves."""
        return {leaf.code: leaf.name for g in self.groups.values() for leaf in g.leaves}

    @cached_property
    def peers(self) -> dict[str, list[int]]:
        """Unit nos by category."""
        out: dict[str, list[int]] = {}
        for no, u in self.units.items():
            out.setdefault(u.category, []).append(no)
        return out

    def with_rank_peers(self, unit_nos: Iterable[int]) -> list[int]:
        """These units, plus every unit of their categories when a leaf is scored by rank among peers (排名):
        one unit's new value moves its peers' fractions on that leaf, so they are rescored with it."""
        nos = set(unit_nos)
        if self.rank_code_set:
            for cat in {self.units[no].category for no in nos if no in self.units}:
                nos.update(self.peers.get(cat, ()))
        return sorted(nos)

    @cached_property
    def rank_code_set(self) -> frozenset[int]:
        return frozenset(self.rank_codes())

    def rank_codes(self) -> set[int]:
        """Columns scored by rank among peers (排名): their peers' values are always loaded."""
        return {
            leaf.code_no
            for g in self.groups.values()
            for leaf in g.leaves
            if leaf.standard is not None and leaf.standard.type == "rank"
        }

    @cached_property
    def tree_of(self) -> dict[str, str]:
        """Group key → the key of the first group with the very same tree (weights, leaves, standards,
        targets, schedules): categories that share a tree are scored in one vectorised pass. A tree with
        a 排名 (rank among peers) leaf stays alone: its peers are its own category."""
        first: dict[str, str] = {}
        out: dict[str, str] = {}
        for key, g in self.groups.items():
            if any(leaf.standard is not None and leaf.standard.type == "rank" for leaf in g.leaves):
                out[key] = key
                continue
            sig = repr((g.root, g.leaves, g.level1, g.buckets))
            out[key] = first.setdefault(sig, key)
        return out

    @cached_property
    def roster(self) -> Roster:
        """Built on first use; a model is not changed after build_model (a new stamp builds a new one)."""
        tree_of = self.tree_of
        keys = tuple(k for k in self.groups if tree_of[k] == k)
        number = {k: i for i, k in enumerate(keys)}
        number.update({k: number[t] for k, t in tree_of.items() if k != t})
        top = max(self.units, default=-1) + 1
        group = np.full(top, -1, dtype=np.int64)
        coefficient = np.full(top, np.nan)
        unit_id: list[str | None] = [None] * top
        for no, u in self.units.items():
            group[no] = number.get(u.group, -1)
            coefficient[no] = u.coefficient
            unit_id[no] = u.unit_id
        targeted = frozenset(no for no, u in self.units.items() if u.targets)
        return Roster(group, keys, coefficient, unit_id, targeted)

    def group_rows(self, unit_nos: Iterable[int]) -> dict[str, list[int]]:
        """unit_nos grouped by tree (keyed by `tree_of`'s representative), each list ascending; groups in
        the order of their first unit."""
        nos = np.sort(np.fromiter(unit_nos, dtype=np.int64))
        ro = self.roster
        g = np.full(len(nos), -1, dtype=np.int64)
        known = (nos >= 0) & (nos < len(ro.group))
        g[known] = ro.group[nos[known]]
        keep = g >= 0
        nos, g = nos[keep], g[keep]
        if not len(nos):
            return {}
        order = np.argsort(g, kind="stable")  # ascending unit_no within each group
        bounds = np.flatnonzero(np.diff(g[order])) + 1
        parts = np.split(nos[order], bounds)
        firsts = [int(part[0]) for part in parts]
        return {
            ro.keys[int(ro.group[first])]: part.tolist()
            for first, part in sorted(zip(firsts, parts, strict=True), key=lambda x: x[0])
        }


def build_tree(leaves: list[EffectiveLeaf], names: Mapping[str, str]) -> ScoreNode:
    """The 百分制 tree of a unit's effective leaves: weights in points become shares of the parent."""
    root: dict[str, Any] = {}
    for leaf in leaves:
        cur = root
        for code in leaf.path:
            cur = cur.setdefault(code, {})
        cur[leaf.code] = leaf.weight if leaf.counted else 0.0

    def make(code: str, node: dict[str, Any] | float) -> ScoreNode:
        if not isinstance(node, dict):
            return ScoreNode(code, names.get(code, code), float(node))
        kids = tuple(make(c, n) for c, n in node.items())
        return ScoreNode(code, names.get(code, code), sum(k.weight for k in kids), kids)

    return from_points(make(ROOT_CODE, root))


def node_weights(leaves: list[EffectiveLeaf], names: Mapping[str, str]) -> dict[str, tuple[float, float]]:
    """Per node code below the root: (分值 points, share of its parent) of a tree's effective leaves."""
    points: dict[str, float] = {}
    for leaf in leaves:
        w = leaf.weight if leaf.counted else 0.0
        for code in (*leaf.path, leaf.code):
            points[code] = points.get(code, 0.0) + w
    out: dict[str, tuple[float, float]] = {}
    stack = list(build_tree(leaves, names).children)
    while stack:
        n = stack.pop()
        out[n.code] = (points.get(n.code, 0.0), n.weight)
        stack.extend(n.children)
    return out


def _group(
    key: str,
    leaves: list[EffectiveLeaf],
    names: Mapping[str, str],
    code_no: Mapping[str, int],
    base: Mapping[str, tuple[float, float]] | None = None,
) -> Group:
    """A group's tree; `base` is its category's node weights (None: the group is the category)."""
    root = build_tree(leaves, names)
    own = node_weights(leaves, names)
    base = own if base is None else base
    weights = {code: NodeWeight(p, sh, *(base.get(code) or (None, None))) for code, (p, sh) in own.items()}
    compiled = compile_scheme(root)
    by_code = {leaf.code: leaf for leaf in leaves}
    specs = tuple(
        LeafSpec(
            code=c,
            code_no=code_no[c],
            name=by_code[c].name,
            full=by_code[c].weight if by_code[c].counted else 0.0,
            standard=by_code[c].standard,
            direction=by_code[c].direction,
            target=by_code[c].target,
            schedule=by_code[c].schedule,
            counted=by_code[c].counted,
        )
        for c in compiled.leaf_codes
    )
    index = {c: i for i, c in enumerate(compiled.codes)}
    level1 = tuple(
        Level1(
            n.code,
            n.name,
            n.weight,
            index[n.code],
            weights[n.code].points,
            weights[n.code].category_share,
            weights[n.code].category_points,
        )
        for n in root.children
    )
    buckets: dict[tuple[str, str], list[int]] = {}
    for j, spec in enumerate(specs):
        if isinstance(spec.standard, CompletionRatio | Banded | Deduction | Bonus):
            buckets.setdefault((repr(spec.standard), spec.direction), []).append(j)
    return Group(key, root, compiled, specs, level1, weights, tuple(tuple(js) for js in buckets.values()))


def unit_specific(scheme: Scheme) -> set[str]:
    """Units whose tree differs from their category's (unit supplements or unit weight overrides)."""
    out = {s.unit_id for s in scheme.supplements if s.unit_id}
    return out | {o.unit_id for o in scheme.overrides if o.unit_id}


def build_model(
    *,
    book: int,
    scheme_id: str,
    scheme: Scheme,
    config: ScoringConfig,
    units: Iterable[tuple[int, str, str, str, str]],  # unit_no, unit_id, name, path, category
    codes: Mapping[str, int],
) -> BookModel:
    """Compile a book: one group per category plus one per customised unit."""
    names = {ind.code: ind.name for ind, _ in all_indicators(scheme)}
    special = unit_specific(scheme)
    per_unit_targets: dict[str, dict[int, float]] = {}
    for ind, _ in all_indicators(scheme):
        for uid, t in ind.targets_by_unit.items():
            if ind.code in codes:
                per_unit_targets.setdefault(uid, {})[codes[ind.code]] = t
    groups: dict[str, Group] = {}
    infos: dict[int, UnitInfo] = {}
    by_category: dict[str | None, dict[str, tuple[float, float]]] = {}

    def category_weights(cat: str | None) -> dict[str, tuple[float, float]]:
        if cat not in by_category:
            by_category[cat] = node_weights(effective_leaves(scheme, None, cat), names)
        return by_category[cat]

    for unit_no, unit_id, name, path, category in units:
        cat = category or None
        key = f"unit:{unit_id}" if unit_id in special else f"cat:{category}"
        if key not in groups:
            leaves = effective_leaves(scheme, unit_id if unit_id in special else None, cat)
            if any(leaf.code not in codes for leaf in leaves) or not leaves:
                continue  # codes are registered when the scheme is stored; no leaves, nothing to score
            if sum(leaf.weight for leaf in leaves if leaf.counted) <= 0:
                continue
            base = category_weights(cat) if unit_id in special else None
            groups[key] = _group(key, leaves, names, codes, base)
        coef = unit_coefficient(scheme, unit_id)
        infos[unit_no] = UnitInfo(
            unit_no, unit_id, name, path, category, key, coef, per_unit_targets.get(unit_id, {})
        )
    return BookModel(
        book=book,
        scheme_id=scheme_id,
        version=scheme.version,
        scheme=scheme,
        config=config,
        units=infos,
        by_id={u.unit_id: u.unit_no for u in infos.values()},
        groups=groups,
        code_no=dict(codes),
        n_codes=(max(codes.values()) + 1) if codes else 0,
    )


def target_matrix(model: BookModel, group: Group, unit_nos: list[int]) -> np.ndarray:
    """(units, leaves) targets: the leaf's target unless the unit has its own (目标分解)."""
    base = np.array([np.nan if leaf.target is None else leaf.target for leaf in group.leaves])
    t = np.repeat(base[None, :], len(unit_nos), axis=0)
    targeted = model.roster.targeted
    if not targeted:
        return t
    for i, no in enumerate(unit_nos):
        if no in targeted:
            own = model.units[no].targets
            for j, leaf in enumerate(group.leaves):
                if leaf.code_no in own:
                    t[i, j] = own[leaf.code_no]
    return t
