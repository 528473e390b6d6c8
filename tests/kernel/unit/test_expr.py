"""The formula language (kaohe.expr): parsing, errors, references, evaluation, dependency cycles."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaohe.expr import MAX_DEPTH, MAX_SOURCE, Expr, ExprError, Ref, dependency_cycles, parse


def env(**values: float) -> dict[Ref, float]:
    """Current-period values by name; `x__1` means x one period back."""
    out = {}
    for key, v in values.items():
        name, _, lag = key.partition("__")
        out[Ref(name, int(lag or 0))] = v
    return out


def test_precedence_and_associativity() -> None:
    e = env(a=2, b=3, c=4)
    assert parse("a + b * c").evaluate(e) == 14  # 2 + 12
    assert parse("(a + b) * c").evaluate(e) == 20
    assert parse("a - b - c").evaluate(e) == -5  # (2 - 3) - 4, left to right
    assert parse("c / a / a").evaluate(e) == 1  # (4 / 2) / 2
    assert parse("-a * b").evaluate(e) == -6
    assert parse("a - -b").evaluate(e) == 5


def test_numbers() -> None:
    assert parse("1.5 + .5").evaluate({}) == 2.0
    assert parse("2e3").evaluate({}) == 2000.0
    assert parse("1.25E-2").evaluate({}) == 0.0125


def test_cjk_and_underscore_names() -> None:
    e = parse("产值_本月 / 目标2")
    assert e.references() == frozenset({Ref("产值_本月", 0), Ref("目标2", 0)})
    assert e.evaluate({Ref("产值_本月", 0): 30.0, Ref("目标2", 0): 120.0}) == 0.25


@pytest.mark.parametrize("name", ["x", "_x", "产值", "x2", "面积²", "Ａ股", "x١"])
def test_names_match_the_indicators_element_pattern(name: str) -> None:
    assert re.fullmatch(r"[^\W\d]\w*", name)  # the pattern the indicators service validates with
    assert parse(name).references() == frozenset({Ref(name, 0)})


def test_functions() -> None:
    e = env(x=110, x__1=100, x__3=80, a=0, b=7, c=-3)
    assert parse("prev(x)").evaluate(e) == 100
    assert parse("prev(x, 3)").evaluate(e) == 80
    assert parse("growth(x)").evaluate(e) == pytest.approx(0.1)  # (110 - 100) / 100
    assert parse("min(x, b, c)").evaluate(e) == -3
    assert parse("max(x, b, c)").evaluate(e) == 110
    assert parse("abs(c)").evaluate(e) == 3
    assert parse("if_zero(a, b)").evaluate(e) == 7
    assert parse("if_zero(b, 99)").evaluate(e) == 7


def test_prev_shifts_a_whole_subexpression() -> None:
    # prev(growth(x)) is last period's growth: (x1 - x2) / x2 = (100 - 80) / 80
    e = env(x=110, x__1=100, x__2=80)
    assert parse("prev(growth(x))").evaluate(e) == 0.25
    assert parse("prev(growth(x))").references() == frozenset({Ref("x", 1), Ref("x", 2)})


def test_references() -> None:
    e = parse("growth(gdp) + prev(invest, 2) - loans")
    assert e.references() == frozenset({Ref("gdp", 0), Ref("gdp", 1), Ref("invest", 2), Ref("loans", 0)})
    assert parse("3 * 4").references() == frozenset()


@pytest.mark.parametrize(
    ("src", "normal"),
    [
        ("a+b*c", "a + b * c"),
        ("(a+b)*c", "(a + b) * c"),
        ("a-(b-c)", "a - (b - c)"),
        ("(a+b)+c", "(a + b) + c"),  # parentheses that change float evaluation order are kept
        ("((a))", "a"),
        ("-(a+b)", "-(a + b)"),
        ("+a", "a"),
        ("prev(x,1)", "prev(x)"),
        ("prev( x ,3 )", "prev(x, 3)"),
        ("min(a,b,2.50)", "min(a, b, 2.5)"),
        ("1e3*x", "1000 * x"),
    ],
)
def test_normalized_source(src: str, normal: str) -> None:
    e = parse(src)
    assert e.source == normal
    assert parse(e.source) == e


@pytest.mark.parametrize(
    ("src", "position", "fragment"),
    [
        ("a +", 3, "expected a number, a name or '('"),
        ("(a + b", 6, "expected ')' to close '(' opened at position 0"),
        ("a + b)", 5, "unmatched ')'"),
        ("a b", 2, "expected an operator"),
        ("2x", 1, "expected an operator"),
        ("foo(x)", 0, "unknown function 'foo'"),
        ("abs(a, b)", 0, "abs() takes 1 argument(s), got 2"),
        ("if_zero(a)", 0, "if_zero() takes 2 argument(s), got 1"),
        ("prev(x, 0)", 8, "between 1 and 12"),
        ("prev(x, 13)", 8, "between 1 and 12"),
        ("prev(x, 2.0)", 8, "whole number"),
        ("prev(x, k)", 8, "whole number"),
        ("min + 1", 4, "expected '(' after function name 'min'"),
        ("a（b）", 1, "full-width"),
        ("a $ b", 2, "unexpected character '$'"),
        ("١x", 0, "unexpected character"),  # a non-ASCII digit cannot start a name
        ("1.", 2, "digit after the decimal point"),
        ("1e", 2, "exponent"),
        ("   ", 0, "empty formula"),
        ("min(a,", 6, "expected a number, a name or '('"),
    ],
)
def test_syntax_errors_say_what_and_where(src: str, position: int, fragment: str) -> None:
    with pytest.raises(ExprError) as info:
        parse(src)
    assert info.value.position == position
    assert fragment in info.value.message
    assert isinstance(info.value, ValueError)


def test_limits() -> None:
    parse("(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH)
    with pytest.raises(ExprError, match="deeper than 50"):
        parse("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(ExprError, match="deeper than 50"):
        parse("-" * (MAX_DEPTH + 1) + "a")
    with pytest.raises(ExprError, match="deeper than 50"):
        parse("abs(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1))
    long = "+".join(["a"] * 1000)  # 1999 characters: long but flat, must not hit any recursion limit
    assert len(long) <= MAX_SOURCE
    assert parse(long).evaluate({Ref("a", 0): 1.0}) == 1000.0
    with pytest.raises(ExprError, match="limit is 2000") as info:
        parse("a" * (MAX_SOURCE + 1))
    assert info.value.position == MAX_SOURCE


def test_evaluation_errors_carry_codes() -> None:
    with pytest.raises(ExprError) as info:
        parse("a / b").evaluate(env(a=1, b=0))
    assert info.value.code == "division_by_zero"
    assert info.value.message.startswith("division_by_zero")
    assert info.value.position == 2
    with pytest.raises(ExprError) as info:
        parse("growth(x)").evaluate(env(x=5, x__1=0))
    assert info.value.code == "division_by_zero"
    with pytest.raises(ExprError) as info:
        parse("a + prev(b)").evaluate(env(a=1, b=2))
    assert info.value.code == "missing_value"
    assert "'b'" in info.value.message and info.value.position == 9
    with pytest.raises(ExprError) as info:
        parse("a * a").evaluate(env(a=1e200))
    assert info.value.code == "non_finite"


def test_no_python_evaluation_reachable() -> None:
    # Anything Python-ish is a syntax error, never executed.
    for src in ["__import__('os')", "a.b", "a[0]", "lambda: 1", "a ** 2", "a if b else c"]:
        with pytest.raises(ExprError):
            parse(src)


def test_dependency_cycles() -> None:
    defs = {
        "a": parse("b + 1"),
        "b": parse("c * 2"),
        "c": parse("a + prev(c)"),
        "d": parse("d"),
        "running": parse("prev(running) + monthly"),  # a running sum over periods: no cycle
        "f": parse("a + b"),  # depends on a cycle but is not in one
        "g": parse("h"),
        "h": parse("g + raw"),
    }
    assert dependency_cycles(defs) == [["a", "b", "c"], ["d"], ["g", "h"]]
    assert dependency_cycles({"x": parse("y"), "y": parse("raw")}) == []


# ---------------------------------------------------------------- property: print/parse round trip

_names = st.sampled_from(["a", "b", "产值", "x_1"])


def _exprs() -> st.SearchStrategy[str]:
    leaves = _names | st.integers(0, 999).map(str) | st.sampled_from(["0.5", "1.25"])

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return (
            st.tuples(inner, st.sampled_from("+-*/"), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}")
            | inner.map(lambda s: f"({s})")
            | inner.map(lambda s: f"-{s}")
            | inner.map(lambda s: f"prev({s}, 2)")
            | st.tuples(inner, inner).map(lambda t: f"max({t[0]}, {t[1]})")
        )

    return st.recursive(leaves, extend, max_leaves=12)


@settings(database=None, deadline=None, max_examples=300)
@given(_exprs())
def test_normalized_source_round_trips(src: str) -> None:
    try:
        e = parse(src)
    except ExprError:
        return  # e.g. nesting past the lag limit
    again = parse(e.source)
    assert again.source == e.source
    assert again.references() == e.references()
    values = {r: float(i + 2) for i, r in enumerate(sorted(e.references()))}
    try:
        first = e.evaluate(values)
    except ExprError:
        return
    assert again.evaluate(values) == first


def test_expr_equality_is_by_normalized_source() -> None:
    assert parse("a+b") == parse(" a + b ")
    assert parse("a+b") != parse("b+a")
    assert isinstance(parse("a"), Expr)
