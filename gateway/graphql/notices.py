"""Notifications (通知): the caller's inbox, unread count, mark read, preferences and a live subscription.

The notices service stores and scopes every row (a user reads only their own inbox); this module maps its
RPC (`kaohe/contracts/notices.py`) onto GraphQL. New rows arrive live as `kaohe.notices.inbox.pushed`
batches on core NATS (`gateway/live.py`); the subscription yields the caller's own items of each batch.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime, time
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import Connection, UserError, call, capped, connection, decode_cursor, page_size
from gateway.graphql.subscriptions import _start
from gateway.policy import Op
from kaohe.contracts.notices import PUSH_TYPE, RULE_ZH, InboxPush
from kaohe.errors import KaoheError

NotificationRule = strawberry.enum(
    Enum(  # type: ignore[misc]
        "NotificationRule",
        {k.upper(): strawberry.enum_value(k, description=v) for k, v in RULE_ZH.items()},
    ),
    description="Which rule sent a notification (通知规则)",
)
NotificationChannel = strawberry.enum(
    Enum(  # type: ignore[misc]
        "NotificationChannel",
        {
            "INBOX": strawberry.enum_value("inbox", description="站内信 (always on)"),
            "EMAIL": strawberry.enum_value("email", description="电子邮件"),
        },
    ),
    description="Where notifications reach you",
)


@strawberry.type(description="A notification (通知) in your inbox")
class Notification:
    notification_id: strawberry.ID
    rule: NotificationRule  # type: ignore[valid-type]
    rule_zh: str = strawberry.field(description="预警提醒 | 填报截止提醒 | 待审核提醒 | 申诉提醒 | 督办提醒")
    title: str
    body: str
    urgent: bool = strawberry.field(description="urgent notices ignore quiet hours and working hours")
    unit_id: str | None
    created_at: datetime
    read_at: datetime | None


def _camel(name: str) -> str:
    first, *more = name.split("_")
    return first + "".join(w[:1].upper() + w[1:] for w in more)


def notification_of(d: dict[str, Any]) -> Notification:
    return Notification(
        notification_id=strawberry.ID(d["notice_id"]),
        rule=NotificationRule(d["rule"]),
        rule_zh=RULE_ZH[d["rule"]],
        title=d["title"],
        body=d["body"],
        urgent=d["urgent"],
        unit_id=d.get("unit_id"),
        created_at=datetime.fromisoformat(d["created_at"]),
        read_at=datetime.fromisoformat(d["read_at"]) if d.get("read_at") else None,
    )


@strawberry.type(description="免打扰时段 (China time): non-urgent email waits until it ends")
class QuietHours:
    start: time
    end: time


@strawberry.input(description="免打扰时段 (China time); wraps midnight when end ≤ start, e.g. 22:00–07:00")
class QuietHoursInput:
    start: time
    end: time


@strawberry.type(description="Your notification preferences (通知设置)")
class NotificationPreferences:
    channels: list[NotificationChannel]  # type: ignore[valid-type]
    email: str | None
    quiet_hours: QuietHours | None


def preferences_of(d: dict[str, Any]) -> NotificationPreferences:
    q = d.get("quiet_hours")
    return NotificationPreferences(
        channels=[NotificationChannel(c) for c in d["channels"]],
        email=d.get("email"),
        quiet_hours=QuietHours(start=time.fromisoformat(q["start"]), end=time.fromisoformat(q["end"]))
        if q
        else None,
    )


@strawberry.input(description="Set your channels, email address and quiet hours")
class NotificationPreferencesSetInput:
    channels: list[NotificationChannel]  # type: ignore[valid-type]
    email: str | None = None
    quiet_hours: QuietHoursInput | None = None


@strawberry.input(description="Mark notifications read: the listed ones, or all of yours")
class NotificationMarkReadInput:
    notification_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    all: bool = False


@strawberry.type
class NotificationMarkReadPayload:
    marked: list[strawberry.ID] = strawberry.field(default_factory=list)
    unread_count: int | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class NotificationPreferencesSetPayload:
    preferences: NotificationPreferences | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="One recipient of the office's 通讯录: who, in which unit, with which roles")
class NotificationRecipientInput:
    user_id: str
    unit_id: str
    org_path: str = strawberry.field(description="the recipient's subtree, e.g. /14/1405/140502/")
    roles: list[str] = strawberry.field(description="reporter | leader | department | assessment_office | …")
    indicator_codes: list[str] = strawberry.field(default_factory=list, description="a 责任部门's indicators")
    email: str | None = None
    channels: list[NotificationChannel] = strawberry.field(  # type: ignore[valid-type]
        default_factory=lambda: [NotificationChannel("inbox"), NotificationChannel("email")]
    )


@strawberry.type
class NotificationRecipientsImportPayload:
    imported: int | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="One try of an email delivery")
class DeliveryAttempt:
    attempt: int
    at: datetime
    ok: bool
    error: str | None


@strawberry.type(description="投递记录: an email delivery of a notification, with every attempt")
class NotificationDelivery:
    delivery_id: strawberry.ID
    notification_id: strawberry.ID
    user_id: str
    rule: NotificationRule  # type: ignore[valid-type]
    title: str
    status: str = strawberry.field(description="pending | sent | failed")
    attempts: int
    not_before: datetime = strawberry.field(
        description="not sent before (working hours, quiet hours, backoff)"
    )
    sent_at: datetime | None
    last_error: str | None
    tries: list[DeliveryAttempt]


def delivery_of(d: dict[str, Any]) -> NotificationDelivery:
    return NotificationDelivery(
        delivery_id=strawberry.ID(d["delivery_id"]),
        notification_id=strawberry.ID(d["notice_id"]),
        user_id=d["user_id"],
        rule=NotificationRule(d["rule"]),
        title=d["title"],
        status=d["status"],
        attempts=d["attempts"],
        not_before=datetime.fromisoformat(d["not_before"]),
        sent_at=datetime.fromisoformat(d["sent_at"]) if d.get("sent_at") else None,
        last_error=d.get("last_error"),
        tries=[
            DeliveryAttempt(
                attempt=t["attempt"], at=datetime.fromisoformat(t["at"]), ok=t["ok"], error=t["error"]
            )
            for t in d["tries"]
        ],
    )


@strawberry.type
class NotificationQuery:
    @strawberry.field(description="Your notifications (通知), newest first")
    async def notifications(
        self,
        info: Info[Context, None],
        unread_only: bool = False,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Notification]:
        params = {"first": page_size(info, first), "after": decode_cursor(after), "unread_only": unread_only}
        res = await call(info, Op.notification_read, "notices", "notifications", params)
        return connection(res["items"], res["next"], notification_of, key="notice_id")

    @strawberry.field(description="How many of your notifications are unread (未读)")
    async def unread_count(self, info: Info[Context, None]) -> int:
        return int((await call(info, Op.notification_read, "notices", "unread_count", {}))["unread"])

    @strawberry.field(
        description="投递记录: email deliveries of notifications about your subtree (考核办, 督查室)"
    )
    async def notification_deliveries(
        self,
        info: Info[Context, None],
        status: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[NotificationDelivery]:
        params: dict[str, Any] = {
            "first": page_size(info, first),
            "after": decode_cursor(after),
            "status": status,
        }
        res = await call(info, Op.notification_manage, "notices", "deliveries", params)
        return connection(res["items"], res["next"], delivery_of, key="delivery_id")

    @strawberry.field(description="Your notification preferences (通知设置)")
    async def notification_preferences(self, info: Info[Context, None]) -> NotificationPreferences:
        return preferences_of(await call(info, Op.notification_preferences, "notices", "preferences_get", {}))


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(description="Mark your notifications read (标记已读)")
    async def notification_mark_read(
        self, info: Info[Context, None], input: NotificationMarkReadInput
    ) -> NotificationMarkReadPayload:
        params = {"notice_ids": [str(i) for i in input.notification_ids], "all": input.all}
        try:
            r = await call(info, Op.notification_read, "notices", "notification_mark_read", params)
        except KaoheError as e:
            if e.field and e.field.startswith("notice_ids"):
                e.field = "notificationIds" + e.field[len("notice_ids") :]
            return NotificationMarkReadPayload(errors=[UserError.of(e)])
        return NotificationMarkReadPayload(
            marked=[strawberry.ID(i) for i in r["marked"]], unread_count=r["unread"]
        )

    @strawberry.mutation(
        description="通讯录导入: who receives notifications in your subtree (考核办, 督查室)"
    )
    async def notification_recipients_import(
        self, info: Info[Context, None], recipients: list[NotificationRecipientInput]
    ) -> NotificationRecipientsImportPayload:
        rows = [
            {
                "user_id": r.user_id,
                "unit_id": r.unit_id,
                "org_path": r.org_path,
                "roles": r.roles,
                "indicator_codes": r.indicator_codes,
                "email": r.email,
                "channels": [c.value for c in r.channels],
            }
            for r in capped(info, recipients, "recipients")
        ]
        try:
            r = await call(
                info, Op.notification_manage, "notices", "recipients_import", {"recipients": rows}, batch=True
            )
        except KaoheError as e:
            if e.field:  # recipients.0.org_path → recipients.0.orgPath: these keys are GraphQL input fields
                e.field = ".".join(_camel(part) for part in e.field.split("."))
            return NotificationRecipientsImportPayload(errors=[UserError.of(e)])
        return NotificationRecipientsImportPayload(imported=r["imported"])

    @strawberry.mutation(description="Set your channels, email and quiet hours (通知设置)")
    async def notification_preferences_set(
        self, info: Info[Context, None], input: NotificationPreferencesSetInput
    ) -> NotificationPreferencesSetPayload:
        params: dict[str, Any] = {"channels": [c.value for c in input.channels], "email": input.email}
        if input.quiet_hours is not None:
            q = input.quiet_hours
            params["quiet_hours"] = {"start": q.start.isoformat(), "end": q.end.isoformat()}
        try:
            r = await call(info, Op.notification_preferences, "notices", "preferences_set", params)
        except KaoheError as e:
            return NotificationPreferencesSetPayload(errors=[UserError.of(e)])
        return NotificationPreferencesSetPayload(preferences=preferences_of(r))


@strawberry.type(description="A new notification of yours, as it is stored")
class NotificationArrived:
    notification_id: strawberry.ID
    rule: NotificationRule  # type: ignore[valid-type]
    title: str
    urgent: bool
    created_at: datetime


@strawberry.type
class NotificationSubscription:
    @strawberry.subscription(
        description="新通知: your notifications as they arrive (read them in full with `notifications`)"
    )
    async def notification_arrived(
        self, info: Info[Context, None]
    ) -> AsyncGenerator[NotificationArrived, None]:
        await _start(info, Op.notification_read, None)
        ctx = info.context
        me = ctx.caller.user_id
        ctx.active_subscriptions += 1
        try:
            async for ev in ctx.services.live.stream({PUSH_TYPE}):
                for item in InboxPush.model_validate(ev.data).items:
                    if item.user_id == me:
                        yield NotificationArrived(
                            notification_id=strawberry.ID(item.notice_id),
                            rule=NotificationRule(item.rule),
                            title=item.title,
                            urgent=item.urgent,
                            created_at=item.created_at,
                        )
        finally:
            ctx.active_subscriptions -= 1
