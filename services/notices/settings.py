"""Settings of the notices service (通知): env prefix KAOHE_NOTICES_, named in kaohe.registry."""

from __future__ import annotations

from datetime import time
from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from kaohe import registry
from kaohe.settings import ComponentSettings


class NoticesSettings(ComponentSettings):
    """SMTP, working hours, delivery retries and the reminder sweep, besides the shared settings."""

    component: ClassVar[str] = "notices"
    model_config = SettingsConfigDict(env_prefix="KAOHE_NOTICES_", extra="ignore")
    http_port: int = registry.get("notices").port
    # email (SMTP); no host: the email channel is recorded but held (status stays pending)
    smtp_host: str | None = Field(None, description="SMTP server; unset holds email deliveries")
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_s: float = 10.0
    mail_from: str = "kaohe@localhost"
    # when non-urgent notices go out (China time, working days of kaohe.workdays)
    work_start: time = time(9, 0)
    work_end: time = time(18, 0)
    # delivery: claimed in batches with a lease, retried with doubling backoff, then failed
    deliver_batch: int = Field(50, ge=1, le=1000)
    deliver_poll_s: float = Field(1.0, gt=0)
    deliver_lease_s: float = Field(120.0, gt=0, description="a claim older than this is taken again")
    max_attempts: int = Field(6, ge=1)
    retry_base_s: float = Field(30.0, gt=0)
    retry_max_s: float = Field(3600.0, gt=0)
    # reminder sweep: 填报截止 by each scheme's own 报送时限 (Scheme.reporting); 督办 due days this many
    # working days before each unit's own due day (0: on the day)
    item_remind_workdays: int = Field(1, ge=0, le=20, description="督办时限临近提醒：提前 N 个工作日")
    remind_poll_s: float = Field(300.0, gt=0)
    # a newly deployed consumer replays the stream from its start: events older than this make no notice
    # (their 填报 data still counts), so nobody hears of last quarter's warnings
    max_event_age_h: float = Field(72.0, gt=0)
    push_batch: int = Field(1000, ge=1, le=10_000, description="recipients per live push message")
