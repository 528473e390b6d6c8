"""Formula syntax: the tokenizer, the tree and the recursive-descent parser (grammar in kaohe.expr)."""

from __future__ import annotations

import math
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
