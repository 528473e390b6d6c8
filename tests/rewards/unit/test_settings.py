"""Rewards settings: the public development key never hashes ID numbers in production."""

import pytest
from pydantic import ValidationError

from services.rewards.settings import RewardsSettings


def test_production_refuses_the_public_development_key() -> None:
    with pytest.raises(ValidationError, match="ID_HMAC_KEY is required in production"):
        RewardsSettings(environment="production")
    assert RewardsSettings(environment="production", id_hmac_key="a-real-secret").environment == "production"
    assert RewardsSettings().environment == "development"  # the dev stack runs with the known key
