"""办不成事窗口 and 12345 intake: a complaint becomes a draft item for the office to assign (待交办).

Deduplicated by the client's key (the same key again answers the same item, `duplicate`); the phone number
and name are stored encrypted (Fernet) and never leave in events; the callback URL is kept for `item.closed`.
"""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.supervision import IntakeResult
from kaohe.contracts.supervision_rpc import IntakeCreateParams
from kaohe.errors import Forbidden, ValidationFailed
from kaohe.identity import Caller, Role
from services.supervision.domain import Role as UnitRole
from services.supervision.domain import Source, SourceRef, SupervisionItem, UnitTask
from services.supervision.repository import items as item_repo
from services.supervision.service.context import Ctx
from services.supervision.service.items import number_for, open_item, require_office, unit_rows

SCOPE = "supervision:intake"
CHANNEL = {"window": (Source.WINDOW, "办不成事窗口"), "hotline": (Source.HOTLINE, "12345热线")}


def _allowed(caller: Caller) -> None:
    if caller.has(Role.integration):
        if SCOPE not in caller.scopes:
            raise Forbidden(f"the API key lacks the scope {SCOPE}", code="forbidden_scope")
        return
    caller.require(Role.supervisor, Role.system)


async def create(s: AsyncSession, ctx: Ctx, caller: Caller, p: IntakeCreateParams) -> IntakeResult:
    _allowed(caller)
    if p.callback_url is not None and not p.callback_url.startswith(("https://", "http://")):
        raise ValidationFailed("callback_url: an http(s) URL", field="callback_url")
    if p.contact_phone is not None and not p.contact_phone.replace("-", "").replace("+", "").isdigit():
        raise ValidationFailed("contact_phone: digits only", field="contact_phone")
    key = f"intake:{p.client_key}"
    found = await item_repo.by_dedupe(s, key)
    if found is not None:
        return IntakeResult(
            item_id=found["id"], number=found["number"], status=found["status"], duplicate=True
        )
    office = (await unit_rows(s, {"office_id": p.office_id}))["office_id"]
    if not caller.has(Role.integration):
        require_office(caller, office["path"])
    elif not caller.covers(office["path"]):  # an API key scoped to a region files only to its offices
        raise Forbidden("office_id: outside the API key's region", field="office_id", code="forbidden_scope")
    now = ctx.now()
    deadline = (await ctx.calendar(s)).add_workdays(now, ctx.settings.intake_deadline_workdays).day
    source, zh = CHANNEL[p.channel]
    item = SupervisionItem(
        id=str(uuid.uuid4()),
        number=await number_for(s, None, office["id"], now, prefixes=ctx.settings.number_prefixes),
        title=f"{zh}: {p.category}",
        problem=p.text,
        source=SourceRef(source, p.client_key, p.category),
        office_id=office["id"],
        lead=UnitTask(office["id"], UnitRole.LEAD, "待交办", deadline),
        deadline=deadline,
        attachments=tuple(p.attachments),
    )
    extra = {
        "dedupe_key": key,
        "channel": p.channel,
        "category": p.category,
        "contact_phone": ctx.seal(p.contact_phone),
        "contact_name": ctx.seal(p.contact_name),
        "callback_url": p.callback_url,
    }
    try:
        async with s.begin_nested():
            await open_item(
                s,
                ctx,
                Caller.system(),
                item,
                office=office,
                paths={office["id"]: office["path"]},
                at=now,
                assign=False,
                extra=extra,
            )
    except IntegrityError:  # the same key in a concurrent request
        found = await item_repo.by_dedupe(s, key)
        if found is None:
            raise
        return IntakeResult(
            item_id=found["id"], number=found["number"], status=found["status"], duplicate=True
        )
    return IntakeResult(item_id=item.id, number=str(item.number), status="draft", duplicate=False)  # type: ignore[arg-type]
