"""Formula language (公式) for formula indicators: a small, safe expression language of our own.

Grammar (no eval, no Python `ast`; a hand-written tokenizer and recursive-descent parser)::

    expr    := term (("+" | "-") term)*
    term    := unary (("*" | "/") unary)*
    unary   := ("-" | "+") unary | primary
    primary := NUMBER | NAME | NAME "(" expr ("," expr)* ")" | "(" expr ")"

Names are data elements (数据元素): letters (CJK included), digits and underscores, not starting with a
digit. Functions: prev(e), prev(e, k) with k a literal 1..12, growth(e), min, max, abs, if_zero(a, b).
`prev` shifts the whole sub-expression back k periods, so prev(growth(x)) is last period's growth.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from kaohe.expr.syntax import (
    MAX_DEPTH,
    MAX_LAG,
    MAX_PREV,
    MAX_SOURCE,
    ExprError,
    Ref,
    _Call,
    _Chain,
    _Name,
    _Neg,
    _Node,
    _Num,
    _Parser,
    _show,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_LAG",
    "MAX_PREV",
    "MAX_SOURCE",
    "Expr",
    "ExprError",
    "Ref",
    "dependency_cycles",
    "parse",
]


# ---------------------------------------------------------------- evaluation


def _refs(node: _Node, lag: int, out: set[Ref]) -> None:
    if isinstance(node, _Name):
        out.add(Ref(node.name, lag))
    elif isinstance(node, _Neg):
        _refs(node.operand, lag, out)
    elif isinstance(node, _Chain):
        _refs(node.first, lag, out)
        for _, _, child in node.rest:
            _refs(child, lag, out)
    elif isinstance(node, _Call):
        shift = node.k if node.fn == "prev" else 0
        for arg in node.args:
            _refs(arg, lag + shift, out)
            if node.fn == "growth":
                _refs(arg, lag + 1, out)


def _eval(node: _Node, env: Mapping[Ref, float], lag: int) -> float:
    if isinstance(node, _Num):
        return node.value
    if isinstance(node, _Name):
        ref = Ref(node.name, lag)
        if ref not in env or env[ref] is None:
            when = "the current period" if lag == 0 else f"{lag} period(s) back"
            raise ExprError(f"missing_value: no value for '{node.name}' in {when}", node.pos, "missing_value")
        value = float(env[ref])
        if not math.isfinite(value):
            raise ExprError(f"non_finite_input: '{node.name}' is {value}", node.pos, "non_finite")
        return value
    if isinstance(node, _Neg):
        return -_eval(node.operand, env, lag)
    if isinstance(node, _Chain):
        acc = _eval(node.first, env, lag)
        for op, pos, child in node.rest:
            v = _eval(child, env, lag)
            if op == "+":
                acc += v
            elif op == "-":
                acc -= v
            elif op == "*":
                acc *= v
            elif v == 0:
                raise ExprError(f"division_by_zero: '{_show(child)}' is 0", pos, "division_by_zero")
            else:
                acc /= v
        return acc
    fn, args = node.fn, node.args
    if fn == "prev":
        return _eval(args[0], env, lag + node.k)
    if fn == "growth":
        cur, before = _eval(args[0], env, lag), _eval(args[0], env, lag + 1)
        if before == 0:
            msg = f"division_by_zero: previous value of '{_show(args[0])}' is 0 in growth()"
            raise ExprError(msg, node.pos, "division_by_zero")
        return (cur - before) / before
    values = [_eval(a, env, lag) for a in args]
    if fn == "min":
        return min(values)
    if fn == "max":
        return max(values)
    if fn == "abs":
        return abs(values[0])
    return values[1] if values[0] == 0 else values[0]  # if_zero


class Expr:
    """A parsed formula; `source` is its normalized text (parse(e.source) gives the same tree)."""

    __slots__ = ("_root", "source")

    def __init__(self, root: _Node) -> None:
        self._root = root
        self.source: str = _show(root)

    def references(self) -> frozenset[Ref]:
        """Data elements and periods the formula reads; growth(x) reads (x, 0) and (x, 1)."""
        out: set[Ref] = set()
        _refs(self._root, 0, out)
        return frozenset(out)

    def evaluate(self, env: Mapping[Ref, float]) -> float:
        """Evaluate against element values; raises ExprError for missing data, ÷0 or a non-finite result."""
        value = _eval(self._root, env, 0)
        if not math.isfinite(value):
            raise ExprError(f"non_finite: result is {value}", 0, "non_finite")
        return value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expr) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)

    def __repr__(self) -> str:
        return f"Expr({self.source!r})"


def parse(src: str) -> Expr:
    """Parse a formula; raises ExprError with the position and what was expected."""
    if len(src) > MAX_SOURCE:
        raise ExprError(f"formula is {len(src)} characters long, the limit is {MAX_SOURCE}", MAX_SOURCE)
    if not src.strip():
        raise ExprError("empty formula: expected an expression", 0)
    expr = Expr(_Parser(src).parse())
    if max((r.lag for r in expr.references()), default=0) > MAX_LAG:
        raise ExprError(f"formula reaches more than {MAX_LAG} periods back", 0)
    return expr


def dependency_cycles(defs: Mapping[str, Expr]) -> list[list[str]]:
    """Cycles among formula elements: one shortest cycle per strongly connected group, sorted.

    Only current-period references form edges: prev(x) reads a value already stored for an earlier
    period, so `total = prev(total) + monthly` is a running sum, not a cycle.
    """
    graph = {
        name: sorted({r.name for r in e.references() if r.lag == 0 and r.name in defs})
        for name, e in defs.items()
    }
    # Formula sets are small (tens to hundreds), so plain reachability is simpler than Tarjan.
    reach = {name: _reachable(graph, name) for name in graph}
    cycles: list[list[str]] = []
    done: set[str] = set()
    for name in sorted(graph):
        if name in done or name not in reach[name]:
            continue
        group = {m for m in reach[name] if name in reach[m]}
        done |= group
        cycles.append(_shortest_cycle(graph, group, name))
    return cycles


def _reachable(graph: Mapping[str, list[str]], start: str) -> set[str]:
    """Names reachable from `start` in one step or more."""
    seen: set[str] = set()
    stack = list(graph[start])
    while stack:
        cur = stack.pop()
        if cur not in seen:
            seen.add(cur)
            stack.extend(graph[cur])
    return seen


def _shortest_cycle(graph: Mapping[str, list[str]], comp: set[str], start: str) -> list[str]:
    parent: dict[str, str] = {}
    frontier = [start]
    seen = {start}
    while frontier:
        nxt_frontier: list[str] = []
        for node in frontier:
            for succ in graph[node]:
                if succ == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return path[::-1]
                if succ in comp and succ not in seen:
                    seen.add(succ)
                    parent[succ] = node
                    nxt_frontier.append(succ)
        frontier = nxt_frontier
    return []
