"""The delivery step (投递): claim due email deliveries, send each, record the attempt; retry with backoff
and, for a non-urgent notice, again only in working hours outside the recipient's quiet hours."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kaohe import logs
from kaohe.db import Database
from services.notices.domain.timing import Quiet, send_at
from services.notices.repository import deliveries
from services.notices.repository.connection import raw
from services.notices.service.fanout import Timing
from services.notices.service.mail import Mailer
from services.notices.settings import NoticesSettings

log = logs.get("notices.delivery")


async def run_once(
    db: Database, mailer: Mailer, settings: NoticesSettings, timing: Timing, clock: Callable[[], datetime]
) -> int:
    """One batch: claimed in its own transaction (so other replicas skip it), sent, each outcome committed."""
    now = clock()
    async with db.uow() as s:
        batch = await deliveries.claim(
            await raw(s), now, limit=settings.deliver_batch, lease_s=settings.deliver_lease_s
        )
    for d in batch:
        error: str | None = None
        if not d["email"]:
            error = "no email address on record"
        else:
            try:
                await mailer.send(
                    mailer.message(to=d["email"], notice_id=d["notice_id"], title=d["title"], body=d["body"])
                )
            except Exception as e:  # SMTP refusals, timeouts, connection errors: recorded and retried
                error = f"{type(e).__name__}: {e}"
        done = clock()
        async with db.uow() as s:
            c = await raw(s)
            if error is None:
                await deliveries.sent(c, d["id"], d["attempts"], done)
                continue
            retry_at = None
            if d["attempts"] < settings.max_attempts:
                retry_at = done + deliveries.backoff(
                    d["attempts"], settings.retry_base_s, settings.retry_max_s
                )
                quiet = None
                if d["quiet_start"] is not None and d["quiet_end"] is not None:
                    quiet = Quiet(d["quiet_start"], d["quiet_end"])
                retry_at = send_at(
                    retry_at, urgent=d["urgent"], cal=timing.cal, window=timing.window, quiet=quiet
                )
            await deliveries.failed(c, d["id"], d["attempts"], done, error, retry_at)
            log.warning(
                "notices.delivery.failed", delivery=d["id"], attempt=d["attempts"], final=retry_at is None
            )
    return len(batch)
