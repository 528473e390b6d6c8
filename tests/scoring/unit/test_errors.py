"""Every error code scoring raises is a member of ScoringErrorCode (no string literal codes)."""

from __future__ import annotations

import ast
from pathlib import Path

from kaohe.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.scoring.errors import ScoringErrorCode

ROOT = Path(__file__).resolve().parents[3] / "services" / "scoring"
ERRORS = {"Conflict", "Forbidden", "NotFound", "ValidationFailed", "KaoheError"}


def raised_codes() -> list[tuple[str, ast.expr]]:
    """(file:line, code=…) of every kernel error constructed in scoring's source."""
    found = []
    for path in ROOT.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ERRORS:
                for kw in node.keywords:
                    if kw.arg == "code":
                        found.append((f"{path.name}:{node.lineno}", kw.value))
    return found


def test_codes_are_enum_members_not_literals() -> None:
    codes = raised_codes()
    assert codes, "the scan found no error codes"
    literal = [where for where, v in codes if isinstance(v, ast.Constant)]
    assert literal == []
    for where, v in codes:
        assert isinstance(v, ast.Attribute) and getattr(v.value, "id", None) == "ScoringErrorCode", where
        assert v.attr in ScoringErrorCode.__members__, where


def test_the_generic_codes_are_members_too() -> None:
    for error in (Conflict, Forbidden, NotFound, ValidationFailed):
        assert ScoringErrorCode(error.code) == error.code
