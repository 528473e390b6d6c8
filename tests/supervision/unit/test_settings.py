"""The supervision service's configured policies: ladders per source/priority, card policy, score rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kaohe.errors import KaoheError
from services.supervision.domain import ClockKind, Colour, Ladder, Priority, Source
from services.supervision.service.context import mask_phone, policies
from services.supervision.settings import SupervisionSettings


def test_ladders_cards_and_rules_come_from_settings() -> None:
    s = SupervisionSettings(
        ladders={
            "leader": {"accept": 1, "first_feedback": 2, "progress_every": 5},
            "urgent": {"accept": 1},
            "hotline/urgent": {"accept": 1, "first_feedback": 1, "progress_every": 3},
        },
        card_policy={"yellow_for": ["deadline", "part"], "red_overdue_workdays": 3},
        score_rules={"per_card": {"yellow": 3, "red": 8}, "floor": 60, "early_workdays": 3},
    )
    ladders, cards, rules = policies(s)
    assert ladders.default == Ladder()  # 13710 unless configured
    assert ladders.by_source[Source.LEADER].progress_every == 5
    assert ladders.by_priority[Priority.URGENT].first_feedback == 3  # unset fields keep 13710's
    assert ladders.by_source_priority[Source.HOTLINE, Priority.URGENT].progress_every == 3
    assert (
        cards.yellow_for == frozenset({ClockKind.DEADLINE, ClockKind.PART})
        and cards.red_overdue_workdays == 3
    )
    assert (
        rules.per_card[Colour.RED] == Decimal(8) and rules.floor == Decimal(60) and rules.early_workdays == 3
    )


def test_a_nonsense_policy_fails_at_start() -> None:
    with pytest.raises(KaoheError):
        policies(SupervisionSettings(ladders={"default": {"accept": 0}}))
    with pytest.raises(ValueError):
        policies(SupervisionSettings(ladders={"nosuchsource": {"accept": 1}}))


def test_phone_masking_keeps_three_and_four_digits() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("12345") == "*****" and mask_phone(None) is None


def test_production_needs_its_phone_key() -> None:
    with pytest.raises(ValueError, match="PHONE_KEY"):
        SupervisionSettings(environment="production").fernet_key()
