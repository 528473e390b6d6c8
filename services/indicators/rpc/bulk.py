"""Bulk submission RPC (批量填报): templates per unit or department, dry run, atomic idempotent commit."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import uuid
from typing import Any

from kaohe import gcpause, logs
from kaohe.errors import NotFound, ValidationFailed
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.indicators.domain import (
    write_csv,
    write_xlsx,
)
from services.indicators.domain.access import REPORTERS
from services.indicators.repository import schemes as scheme_store
from services.indicators.rpc.common import uow
from services.indicators.schemas import ImportReq, TemplateReq, UploadReq
from services.indicators.service.bulk import build_context, read_object, run_import
from services.indicators.settings import IndicatorsSettings

INLINE_MAX = 256 * 1024
log = logs.get("kaohe.indicators.bulk")


def register(rt: Runtime, settings: IndicatorsSettings) -> None:
    rpc = rt.rpc_server()

    @rpc.method("bulk_template", TemplateReq)
    async def bulk_template(caller: Caller, p: TemplateReq) -> dict[str, Any]:
        caller.require(*REPORTERS)
        assert rt.store is not None
        async with uow(rt) as s:
            row = await scheme_store.get_row(s, caller, p.scheme_id)
            ctx = await build_context(s, caller, row, p)
        buf = io.BytesIO()
        await asyncio.to_thread(write_csv if p.format == "csv" else write_xlsx, ctx, buf)
        data = buf.getvalue()
        who = p.unit_id or p.department
        filename = f"填报模板_{row.assessing_unit}_{who}_{ctx.period}.{p.format}"
        out: dict[str, Any] = {"filename": filename, "format": p.format, "rows": len(ctx.expected)}
        if p.inline if p.inline is not None else len(data) <= INLINE_MAX:
            out["content_base64"] = base64.b64encode(data).decode()
            return out
        key = f"templates/{row.assessing_unit}/{uuid.uuid4().hex}.{p.format}"
        await rt.store.put_stream(key, io.BytesIO(data), length=len(data))
        out["download_url"] = rt.store.presign_get(key, ttl_s=settings.presign_ttl_s, filename=filename)
        return out

    @rpc.method("bulk_upload_url", UploadReq)
    async def bulk_upload_url(caller: Caller, p: UploadReq) -> dict[str, Any]:
        caller.require(*REPORTERS)
        assert rt.store is not None
        key = f"imports/{caller.user_id}/{uuid.uuid4().hex}/{p.filename}"
        return {
            "object_key": key,
            "upload_url": rt.store.presign_put(key, ttl_s=settings.presign_ttl_s),
            "expires_in_s": settings.presign_ttl_s,
        }

    @rpc.method("bulk_import", ImportReq)
    async def bulk_import(caller: Caller, p: ImportReq) -> dict[str, Any]:
        caller.require(*REPORTERS)
        if not p.dry_run and p.client_key is None:
            raise ValidationFailed(
                "client_key is required to commit (same key → same result, no double rows)",
                field="client_key",
            )
        if p.content_base64 is not None:
            try:
                content = base64.b64decode(p.content_base64, validate=True)
            except ValueError:
                raise ValidationFailed("content_base64 is not valid base64", field="content_base64") from None
        elif p.rows is not None:
            content = json.dumps(p.rows, ensure_ascii=False).encode()
        else:
            assert rt.store is not None and p.object_key is not None
            if not p.object_key.startswith(f"imports/{caller.user_id}/"):
                raise NotFound("upload not found", field="object_key")
            content = await read_object(rt, p.object_key)
        with gcpause.paused():
            return await run_import(rt, caller, p, content)
