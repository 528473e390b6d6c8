"""Intake callbacks (办不成事/12345): the complainant's system learns the outcome, signed like webhooks.

An intake with a `callback_url` registers it as a webhook of its own (owner `callback:<item id>`, event type
`supervision.intake.outcome`), so the delivery worker signs, retries and records it like any webhook and
its history is readable under /webhooks. When the item is closed (销号) or withdrawn (撤销), the webhook
consumer queues one delivery to it.
"""

from __future__ import annotations

import secrets
from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.tables import WEBHOOK
from kaohe.contracts.supervision import ItemClosed
from kaohe.events import CloudEvent
from kaohe.identity import Caller

CALLBACK_OWNER = "callback:"  # owner of an intake's callback target: `callback:<item id>`
CALLBACK_TYPE = "supervision.intake.outcome"


async def register_callback(s: AsyncSession, caller: Caller, *, item_id: str, url: str) -> str:
    """An intake's callback URL (办不成事/12345: tell the complainant the outcome) as a webhook of its own,
    signed and retried like every webhook, its history under /webhooks; the secret is returned once."""
    secret = secrets.token_urlsafe(32)
    row = {
        "id": secrets.token_hex(8),
        "url": url,
        "secret": secret,
        "event_types": [CALLBACK_TYPE],
        "org_path": caller.org_path,
        "owner": f"{CALLBACK_OWNER}{item_id}",
    }
    await s.execute(insert(WEBHOOK).values(**row))
    return secret


async def intake_callback_rows(s: AsyncSession, event: CloudEvent) -> list[dict[str, Any]]:
    """The outcome delivery of a closed or withdrawn intake item to its registered callback."""
    d = ItemClosed.from_event(event)
    owner = f"{CALLBACK_OWNER}{d.item_id}"
    hooks = (await s.execute(select(WEBHOOK).where(WEBHOOK.c.owner == owner, WEBHOOK.c.active))).mappings()
    data = {"item_id": d.item_id, "number": d.number, "outcome": d.outcome, "status": str(d.status)}
    body = {"id": event.id, "type": CALLBACK_TYPE, "time": event.time.isoformat(), "data": data}
    text = orjson.dumps(body).decode()
    return [
        {"webhook_id": h["id"], "event_id": event.id, "event_type": CALLBACK_TYPE, "body": text}
        for h in hooks
    ]
