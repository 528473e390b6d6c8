"""Notices (通知) shared by the notices service and the gateway: channels, preferences, the live push.

The push is not a durable event: once a fan-out has stored its inbox rows, notices publishes one core-NATS
message per batch of recipients (`kaohe.notices.inbox.pushed`, a CloudEvent whose `data` is `InboxPush`);
the gateway's live layer (`gateway/live.py`) hands each item to the recipient's open subscriptions. A user
who is not connected reads the same rows from the inbox.

The durable counterpart, for integrators (the gateway's webhooks, e.g. a 政务 messaging system), is the
outbox event `kaohe.notices.notice.created` (`NoticeCreated`): per fan-out, its new notices grouped by rule
and unit with the recipients' user ids, never an email address.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from kaohe.contracts.events import EventPayload
from kaohe.contracts.pages import PageRequest, Request

# A plain, checkable address shape (no deliverability check): local@domain.tld, no spaces.
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
PUSH_TYPE = "kaohe.notices.inbox.pushed"
Channel = Literal["inbox", "email"]  # 站内信 / 电子邮件 (the inbox always keeps a row)
Rule = Literal["warning", "deadline", "review", "objection", "supervision"]
RULE_ZH: dict[str, str] = {
    "warning": "预警提醒",
    "deadline": "填报截止提醒",
    "review": "待审核提醒",
    "objection": "申诉提醒",
    "supervision": "督办提醒",
}


class PushedNotice(BaseModel):
    """One new inbox row, as a subscription shows it (no personal identifiers beyond the user id)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    notice_id: str
    user_id: str
    rule: Rule
    title: str
    urgent: bool
    created_at: datetime
    unit_id: str | None = None  # the unit the notice is about (a deadline: the recipient's own)
    unit_path: str | None = None


class InboxPush(BaseModel):
    """A batch of new inbox rows of one fan-out (up to `notices` settings' push batch recipients)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    items: list[PushedNotice]


class NoticeGroup(BaseModel):
    """The new notices of one rule about one unit (a deadline reminder: the recipients' own unit)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    rule: Rule
    rule_zh: str
    unit_id: str | None = None
    unit_path: str | None = None
    urgent: bool
    title: str
    notice_ids: list[str]
    user_ids: list[str]


class NoticeCreated(EventPayload):
    """Notices stored in their recipients' inboxes by one fan-out, grouped by rule and unit (≤
    `CREATED_UNITS` groups an event); subject: the rule (`mixed` if several). User ids only, never an
    address: an integrator maps them to its own accounts. `units[].unit_path` scopes webhook deliveries."""

    TYPE = "kaohe.notices.notice.created"

    created_at: datetime
    units: list[NoticeGroup]


CREATED_UNITS = 200


class QuietHours(BaseModel):
    """免打扰时段 in China time: [start, end), wrapping midnight when end ≤ start (22:00–07:00)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: time
    end: time

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours: start and end must differ")
        return self


class PreferencesSet(Request):
    """A user's own notification preferences (通知设置)."""

    channels: list[Channel] = Field(default_factory=lambda: ["inbox", "email"], min_length=1)
    email: Email | None = Field(None, validate_default=True)
    quiet_hours: QuietHours | None = None

    @field_validator("email")
    @classmethod
    def _email_for_mail(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None and "email" in (info.data.get("channels") or ()):
            raise ValueError("an address is needed for the email channel")
        return v


class RecipientIn(Request):
    """One recipient an office imports (通讯录): who, in which unit, with which roles."""

    user_id: str = Field(min_length=1, max_length=200)
    unit_id: str = Field(min_length=1, max_length=40)
    org_path: str = Field(min_length=2, max_length=1000, pattern=r"^/.*/$")
    roles: list[str] = Field(min_length=1)
    indicator_codes: list[str] = Field(default_factory=list, description="a 责任部门's indicators")
    email: Email | None = None
    channels: list[Channel] = Field(default_factory=lambda: ["inbox", "email"], min_length=1)


class RecipientsImport(Request):
    recipients: list[RecipientIn] = Field(min_length=1, max_length=10_000)


class NotificationsQuery(PageRequest):
    unread_only: bool = False


class MarkRead(Request):
    """Mark some of the caller's notices read, or all of them (`all`, with `notice_ids` empty)."""

    all: bool = False
    notice_ids: list[str] = Field(default_factory=list, max_length=500, validate_default=True)

    @field_validator("notice_ids")
    @classmethod
    def _something(cls, v: list[str], info: ValidationInfo) -> list[str]:
        if not v and not info.data.get("all"):
            raise ValueError("name the notices, or set all")
        return v


class Empty(Request):
    pass


class DeliveriesQuery(PageRequest):
    """The office's view of email deliveries (投递记录) in its subtree."""

    status: Literal["pending", "sent", "failed"] | None = None
