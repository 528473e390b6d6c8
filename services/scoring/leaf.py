"""Scores one leaf indicator from an approved value (the full rule set lives in services.scoring.engine)."""

from __future__ import annotations

from typing import Any


def score_leaf(
    standard: dict[str, Any], *, value: float, target: float | None, weight: float, direction: str
) -> tuple[float, dict[str, Any]]:
    """Completion ratio (完成率) against target with floor and cap; returns (score, explanation)."""
    cap = float(standard.get("cap", 1.0))
    floor = float(standard.get("floor", 0.0))
    if not target:
        ratio = 1.0 if value else 0.0
    elif direction == "lower_better":
        ratio = target / value if value > 0 else cap
    else:
        ratio = value / target
    credited = min(max(ratio, 0.0), cap)
    if credited < floor:
        credited = 0.0
    score = round(weight * credited, 6)
    return score, {
        "rule": standard.get("type", "completion_ratio"),
        "ratio": round(ratio, 6),
        "credited_ratio": round(credited, 6),
        "weight": weight,
        "score": score,
    }
