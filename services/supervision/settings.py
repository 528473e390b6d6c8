"""Settings of the supervision service (督查督办): env prefix KAOHE_SUPERVISION_, named in kaohe.registry."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from kaohe import registry
from kaohe.settings import ComponentSettings

_DEV_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"kaohe-supervision-development").digest()).decode()


class SupervisionSettings(ComponentSettings):
    """What the supervision service reads from the environment besides the shared component settings."""

    component: ClassVar[str] = "supervision"
    model_config = SettingsConfigDict(env_prefix="KAOHE_SUPERVISION_", extra="ignore")
    http_port: int = registry.get("supervision").port
    environment: Literal["development", "production"] = "development"
    phone_key: SecretStr | None = Field(
        None, description="Fernet key for complainants' phone numbers (required in production)"
    )
    sweep_interval_s: float = Field(30.0, gt=0, description="how often the sweep looks for due clocks")
    sweep_batch: int = Field(500, ge=1, le=10_000, description="items per sweep transaction")
    warning_levels: list[str] = Field(
        default_factory=lambda: ["orange", "red"], description="warning levels that open an item"
    )
    rectification_grades: list[str] = Field(
        default_factory=lambda: ["较差"], description="published grades that open a 整改 item (末位 always)"
    )
    ladders: dict[str, dict[str, int | None]] = Field(
        default_factory=dict,
        description='clock ladders (时限阶梯) by "default", a source, a priority or "source/priority", e.g.'
        ' {"leader": {"accept": 1, "first_feedback": 2, "progress_every": 5}}; unset: 13710',
    )
    card_policy: dict[str, object] = Field(
        default_factory=dict,
        description="红黄牌 policy fields (yellow_for, red_after_yellows, red_overdue_workdays, …)",
    )
    score_rules: dict[str, object] = Field(
        default_factory=dict, description="督查核算 rules (per_card, per_overdue_workday, floor, cap, …)"
    )
    number_prefixes: dict[str, str] = Field(
        default_factory=dict,
        description='机关代字 of item numbers by office unit id, e.g. {"1405": "晋市督"}; unset: the first'
        " character of the office's place name + 督 (晋城市 → 晋督〔2026〕1号)",
    )

    @field_validator("number_prefixes")
    @classmethod
    def _prefixes(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [o for o, p in v.items() if not re.fullmatch(r"[\u4e00-\u9fff]{1,12}", p)]
        if bad:
            raise ValueError(f"number_prefixes: 1–12 Chinese characters each (offices {', '.join(bad)})")
        return v

    intake_deadline_workdays: int = Field(10, ge=1, description="default 时限 of an intake item")
    assessment_deadline_workdays: int = Field(20, ge=1, description="default 时限 of a warning's item")

    def fernet_key(self) -> bytes:
        """The key phone numbers are encrypted with; a fixed development key outside production."""
        if self.phone_key is not None:
            return self.phone_key.get_secret_value().encode()
        if self.environment == "production":
            raise ValueError("KAOHE_SUPERVISION_PHONE_KEY is required in production")
        return _DEV_KEY.encode()
