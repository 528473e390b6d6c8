"""Problem model of the indicators domain; its codes are `services.indicators.errors.IndicatorsErrorCode`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from services.indicators.errors import IndicatorsErrorCode as ErrorCode


class Problem(BaseModel):
    """One thing wrong with a scheme or a decomposition; `message` names the exact place in Chinese."""

    model_config = ConfigDict(frozen=True)

    path: str
    code: ErrorCode
    message: str


def problem(path: str, code: ErrorCode, detail: str) -> Problem:
    """Build a Problem whose message starts with its path, e.g. `方案 2026 / 类别 乡镇: …`."""
    return Problem(path=path, code=code, message=f"{path}: {detail}")


def fmt(x: float) -> str:
    """Format a number for a Chinese message: no trailing zeros, at most 4 decimals."""
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
