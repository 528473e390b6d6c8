"""Live push (推送) after commit, and the durable `notice.created` events, of a fan-out's new inbox rows.

Push: one core-NATS message per batch of new rows (contracts.notices). Events: the rows grouped by rule and
unit, in the outbox within the fan-out's own transaction, for integrators (the gateway's webhooks).

Rows are pushed only once their transaction has committed: a rolled-back fan-out pushes nothing, and a
fan-out that wrote nothing new (a redelivered event) has nothing to push.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import event
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe import logs
from kaohe.contracts.notices import (
    CREATED_UNITS,
    PUSH_TYPE,
    RULE_ZH,
    InboxPush,
    NoticeCreated,
    NoticeGroup,
    PushedNotice,
)
from kaohe.events import CloudEvent, nats_subject
from services.notices.repository import outbox
from services.notices.repository.connection import raw

log = logs.get("notices.push")
Publish = Callable[[str, bytes], Awaitable[Any]]


class Pusher:
    """Publishes InboxPush messages on `<prefix>.notices.inbox.pushed` in batches of `batch` rows."""

    def __init__(self, prefix: str, batch: int, publish: Publish | None = None) -> None:
        self.prefix = prefix
        self.subject = nats_subject(prefix, PUSH_TYPE)
        self.batch = batch
        self.publish = publish  # set when the runtime connects
        self._tasks: set[asyncio.Task[None]] = set()

    def messages(self, items: Sequence[PushedNotice]) -> list[bytes]:
        out = []
        for i in range(0, len(items), self.batch):
            push = InboxPush(items=list(items[i : i + self.batch]))
            ev = CloudEvent(
                source="/kaohe/notices", type=PUSH_TYPE, subject="inbox", data=push.model_dump(mode="json")
            )
            out.append(ev.to_bytes())
        return out

    async def send(self, items: Sequence[PushedNotice]) -> int:
        if self.publish is None or not items:
            return 0
        msgs = self.messages(items)
        for m in msgs:
            await self.publish(self.subject, m)
        return len(msgs)

    async def announce(self, s: AsyncSession, items: Sequence[PushedNotice]) -> None:
        """New inbox rows: `notice.created` into the outbox now (same transaction), the push at commit."""
        await outbox.emit_many(await raw(s), self.prefix, created_events(items))
        self.after_commit(s, items)

    def after_commit(self, s: AsyncSession, items: Sequence[PushedNotice]) -> None:
        """Queue `items` for pushing when `s` commits (dropped if it rolls back)."""
        if not items:
            return
        pending: list[PushedNotice] | None = s.info.get("notices_push")
        if pending is None:
            pending = s.info["notices_push"] = []
            sync = s.sync_session

            def committed(_: Any) -> None:
                todo = s.info.pop("notices_push", [])
                if todo:
                    task = asyncio.get_running_loop().create_task(self._send_logged(todo))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)

            def rolled_back(_: Any) -> None:
                s.info.pop("notices_push", None)

            event.listen(sync, "after_commit", committed, once=True)
            event.listen(sync, "after_rollback", rolled_back, once=True)
        pending.extend(items)

    async def _send_logged(self, items: list[PushedNotice]) -> None:
        try:
            await self.send(items)
        except Exception as e:  # the rows are stored; a lost push only delays what the inbox shows
            log.warning("notices.push.failed", count=len(items), error=type(e).__name__)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5)


def created_events(items: Sequence[PushedNotice]) -> list[CloudEvent]:
    """`notice.created` of a fan-out's new rows: grouped by rule, unit, urgency and title, at most
    `CREATED_UNITS` groups an event (a warning wave of a thousand units makes five events, not a thousand)."""
    groups: dict[tuple[str, str | None, str | None, bool, str], list[PushedNotice]] = {}
    for i in items:
        groups.setdefault((i.rule, i.unit_id, i.unit_path, i.urgent, i.title), []).append(i)
    units = [
        NoticeGroup(
            rule=rule,  # type: ignore[arg-type]
            rule_zh=RULE_ZH[rule],
            unit_id=unit_id,
            unit_path=unit_path,
            urgent=urgent,
            title=title,
            notice_ids=[g.notice_id for g in group],
            user_ids=[g.user_id for g in group],
        )
        for (rule, unit_id, unit_path, urgent, title), group in groups.items()
    ]
    out = []
    for k in range(0, len(units), CREATED_UNITS):
        chunk = units[k : k + CREATED_UNITS]
        rules = {u.rule for u in chunk}
        subject = rules.pop() if len(rules) == 1 else "mixed"
        created = NoticeCreated(created_at=items[0].created_at, units=chunk)
        out.append(created.event(subject=subject))
    return out
