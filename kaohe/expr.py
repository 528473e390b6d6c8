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
from dataclasses import dataclass

MAX_SOURCE = 2000
MAX_DEPTH = 50
MAX_PREV = 12
MAX_LAG = 24  # nested prev() may reach two years back, no further

_FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "prev": (1, 2),
    "growth": (1, 1),
    "min": (1, None),
    "max": (1, None),
    "abs": (1, 1),
    "if_zero": (2, 2),
}
# Users type formulas with a Chinese IME on; name the ASCII character they meant.
_FULL_WIDTH = dict(zip("（），＋－＊／×÷", "(),+-*/*/", strict=True))


class ExprError(ValueError):
    """A formula that cannot be parsed or evaluated; `position` is a 0-based offset into the source."""

    def __init__(self, message: str, position: int, code: str = "syntax") -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position
        self.code = code

    def __str__(self) -> str:
        return f"{self.message} (position {self.position})"


@dataclass(frozen=True, order=True)
class Ref:
    """A data element in a period: lag 0 is the current period, 1 the previous one, and so on."""

    name: str
    lag: int


# ---------------------------------------------------------------- tokens

_NUM, _NAME, _OP, _END = "number", "name", "op", "end"


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str
    text: str
    pos: int


# Names follow the regex `[^\W\d]\w*` (what the indicators service validates element names against):
# \w is str.isalnum() or "_", \d is str.isdecimal().
def _is_name_char(ch: str) -> bool:
    return ch == "_" or ch.isalnum()


def _is_name_start(ch: str) -> bool:
    return _is_name_char(ch) and not ch.isdecimal()


def _tokenize(src: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch.isspace():
            i += 1
        elif "0" <= ch <= "9" or (ch == "." and i + 1 < n and "0" <= src[i + 1] <= "9"):
            start = i
            while i < n and "0" <= src[i] <= "9":
                i += 1
            if i < n and src[i] == ".":
                i += 1
                if not (i < n and "0" <= src[i] <= "9"):
                    raise ExprError(f"expected a digit after the decimal point in number '{src[start:i]}'", i)
                while i < n and "0" <= src[i] <= "9":
                    i += 1
            if i < n and src[i] in "eE":
                j = i + 1
                if j < n and src[j] in "+-":
                    j += 1
                if not (j < n and "0" <= src[j] <= "9"):
                    raise ExprError(f"expected exponent digits in number '{src[start:j]}'", j)
                while j < n and "0" <= src[j] <= "9":
                    j += 1
                i = j
            toks.append(_Tok(_NUM, src[start:i], start))
        elif _is_name_start(ch):
            start = i
            while i < n and _is_name_char(src[i]):
                i += 1
            toks.append(_Tok(_NAME, src[start:i], start))
        elif ch in "+-*/(),":
            toks.append(_Tok(_OP, ch, i))
            i += 1
        elif ch in _FULL_WIDTH:
            raise ExprError(f"unexpected full-width character '{ch}': use ASCII '{_FULL_WIDTH[ch]}'", i)
        else:
            raise ExprError(f"unexpected character {ch!r}: expected a number, a name, an operator or '('", i)
    toks.append(_Tok(_END, "", n))
    return toks


# ---------------------------------------------------------------- tree

_PREC = {"+": 1, "-": 1, "*": 2, "/": 2}


@dataclass(frozen=True, slots=True)
class _Num:
    value: float
    pos: int


@dataclass(frozen=True, slots=True)
class _Name:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class _Neg:
    operand: _Node
    pos: int


@dataclass(frozen=True, slots=True)
class _Chain:
    """A flat run of same-precedence operators, so `a+a+…+a` stays shallow however long it is."""

    prec: int
    first: _Node
    rest: tuple[tuple[str, int, _Node], ...]  # (operator, position, operand)


@dataclass(frozen=True, slots=True)
class _Call:
    fn: str
    args: tuple[_Node, ...]
    pos: int
    k: int = 0  # prev's literal lag


_Node = _Num | _Name | _Neg | _Chain | _Call


def _fmt_num(v: float) -> str:
    if v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    return repr(v)


def _show(node: _Node) -> str:
    if isinstance(node, _Num):
        return _fmt_num(node.value)
    if isinstance(node, _Name):
        return node.name
    if isinstance(node, _Neg):
        inner = _show(node.operand)
        return f"-({inner})" if isinstance(node.operand, _Chain) else f"-{inner}"
    if isinstance(node, _Chain):

        def wrap(child: _Node) -> str:
            text = _show(child)
            # a nested chain of the same or lower precedence only exists because the source had parentheses
            return f"({text})" if isinstance(child, _Chain) and child.prec <= node.prec else text

        return wrap(node.first) + "".join(f" {op} {wrap(child)}" for op, _, child in node.rest)
    args = [_show(a) for a in node.args]
    if node.fn == "prev" and node.k != 1:
        args.append(str(node.k))
    return f"{node.fn}({', '.join(args)})"


# ---------------------------------------------------------------- parser


class _Parser:
    def __init__(self, src: str) -> None:
        self.toks = _tokenize(src)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def _describe(self, tok: _Tok) -> str:
        if tok.kind == _END:
            return "end of input"
        return f"'{tok.text}'" if tok.kind == _OP else f"{tok.kind} '{tok.text}'"

    def _enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(f"formula nested deeper than {MAX_DEPTH} levels", pos)

    def parse(self) -> _Node:
        node = self.expr()
        if self.tok.kind != _END:
            found = self._describe(self.tok)
            if self.tok.text == ")":
                raise ExprError("unmatched ')': no '(' is open here", self.tok.pos)
            raise ExprError(f"expected an operator (+ - * /) or end of input, found {found}", self.tok.pos)
        return node

    def _chain(self, prec: int) -> _Node:
        sub = self.term if prec == 1 else self.unary
        first = sub()
        rest: list[tuple[str, int, _Node]] = []
        while self.tok.kind == _OP and _PREC.get(self.tok.text) == prec:
            op = self.tok
            self.i += 1
            rest.append((op.text, op.pos, sub()))
        return _Chain(prec, first, tuple(rest)) if rest else first

    def expr(self) -> _Node:
        return self._chain(1)

    def term(self) -> _Node:
        return self._chain(2)

    def unary(self) -> _Node:
        tok = self.tok
        if tok.kind == _OP and tok.text in "+-":
            self._enter(tok.pos)
            self.i += 1
            operand = self.unary()
            self.depth -= 1
            return _Neg(operand, tok.pos) if tok.text == "-" else operand
        return self.primary()

    def _expect(self, text: str, context: str) -> _Tok:
        tok = self.tok
        if tok.kind == _OP and tok.text == text:
            self.i += 1
            return tok
        raise ExprError(f"expected '{text}' {context}, found {self._describe(tok)}", tok.pos)

    def primary(self) -> _Node:
        tok = self.tok
        if tok.kind == _NUM:
            self.i += 1
            value = float(tok.text)
            if not math.isfinite(value):
                raise ExprError(f"number '{tok.text}' is too large", tok.pos)
            return _Num(value, tok.pos)
        if tok.kind == _NAME:
            self.i += 1
            if self.tok.kind == _OP and self.tok.text == "(":
                return self.call(tok)
            if tok.text in _FUNCTIONS:
                raise ExprError(f"expected '(' after function name '{tok.text}'", self.tok.pos)
            return _Name(tok.text, tok.pos)
        if tok.kind == _OP and tok.text == "(":
            self._enter(tok.pos)
            self.i += 1
            node = self.expr()
            self._expect(")", f"to close '(' opened at position {tok.pos}")
            self.depth -= 1
            return node
        raise ExprError(f"expected a number, a name or '(', found {self._describe(tok)}", tok.pos)

    def call(self, name: _Tok) -> _Node:
        if name.text not in _FUNCTIONS:
            known = ", ".join(sorted(_FUNCTIONS))
            raise ExprError(f"unknown function '{name.text}': expected one of {known}", name.pos)
        lo, hi = _FUNCTIONS[name.text]
        self._enter(name.pos)
        self.i += 1  # "("
        args: list[tuple[_Tok, _Node]] = []
        while True:
            args.append((self.tok, self.expr()))
            if self.tok.kind == _OP and self.tok.text == ",":
                self.i += 1
                continue
            self._expect(")", f"or ',' in the arguments of {name.text}() opened at position {name.pos}")
            break
        self.depth -= 1
        if len(args) < lo or (hi is not None and len(args) > hi):
            want = f"{lo}" if lo == hi else f"{lo} to {hi}" if hi else f"at least {lo}"
            raise ExprError(f"{name.text}() takes {want} argument(s), got {len(args)}", name.pos)
        k = 1
        if name.text == "prev" and len(args) == 2:
            first, lit = args.pop()
            # only a plain literal like 3: not 3.0, not 1 + 2, not a name
            if not (isinstance(lit, _Num) and first.kind == _NUM and first.text.isdigit()):
                raise ExprError(f"prev()'s second argument must be a whole number 1..{MAX_PREV}", first.pos)
            k = int(first.text)
            if not 1 <= k <= MAX_PREV:
                raise ExprError(f"prev() lag must be between 1 and {MAX_PREV}, got {k}", first.pos)
        return _Call(name.text, tuple(node for _, node in args), name.pos, k if name.text == "prev" else 0)


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
