"""Exports (导出): payroll files of approved pay lines (工资发放) and ledgers for 备案, on S3, presigned.

The payroll CSV is rendered by PostgreSQL (`COPY (SELECT …) TO STDOUT WITH CSV`) — no Python per row —
and streamed to the object store; text cells that a spreadsheet would run as a formula are prefixed
with a quote in the SELECT itself (kaohe.exports' rule). XLSX goes through openpyxl's write-only sheet
with `safe_cell`. The caller gets a short-lived presigned GET.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from openpyxl import Workbook

from kaohe.contracts.paths import bounds
from kaohe.contracts.rewards import LedgerExport, PayrollExport
from kaohe.errors import Conflict, NotFound
from kaohe.exports import safe_cell
from kaohe.identity import Caller
from kaohe.storage import EvidenceStore
from services.rewards.domain.money import yuan
from services.rewards.errors import RewardsErrorCode as E
from services.rewards.repository import ledger as ledger_repo
from services.rewards.repository import proposals as repo
from services.rewards.service import access
from services.rewards.service.registry import may_read_person

BOM = "\ufeff".encode()
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _safe_sql(col: str) -> str:
    return (
        f"CASE WHEN left({col}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') THEN '''' || {col} ELSE {col} END"
    )


# one pass over the set's lines (primary-key order), the person's name by key, the units of the caller's
# subtree as a hashed semi-join; the period is a constant of the set; yuan by integer arithmetic (pay
# amounts are never negative)
PAYROLL = f"""
SELECT l.person_key AS "人员编码", {_safe_sql("r.name")} AS "姓名", l.unit_id AS "单位代码",
       $4::text AS "期间", {_safe_sql("l.rule_id")} AS "规则",
       (l.amount_fen / 100)::text || '.' || lpad((l.amount_fen % 100)::text, 2, '0') AS "金额(元)",
       l.amount_fen AS "金额(分)"
FROM proposal_line l JOIN person r ON r.person_key = l.person_key
WHERE l.set_id = $1 AND l.kind = 'pay' AND NOT l.dropped
  AND l.unit_id IN (SELECT u.unit_id FROM proposal_unit u WHERE u.set_id = $1
                    AND u.unit_path COLLATE "C" >= $2 AND u.unit_path COLLATE "C" < $3)
ORDER BY l.line_no
"""
HEADER = ("人员编码", "姓名", "单位代码", "期间", "规则", "金额(元)", "金额(分)")


async def _approved(conn: asyncpg.Connection, caller: Caller, p: PayrollExport) -> tuple[asyncpg.Record, str]:
    access.require(caller, *access.PAYROLL)
    row = await repo.get_set(conn, p.set_id)
    if row is None or not await access.covers_assessing(conn, caller, row["assessing_unit"]):
        raise NotFound(f"proposal set {p.set_id} not found", field="set_id", code=E.NOT_FOUND)
    if row["status"] != "approved":
        raise Conflict(
            f"proposal set {p.set_id} is {row['status']}, not approved", field="set_id", code=E.SET_CLOSED
        )
    root = await access.unit_path(conn, caller, p.unit_id) if p.unit_id else caller.org_path
    return row, root


async def _put(
    store: EvidenceStore, key: str, data: io.BufferedIOBase | io.BytesIO, content_type: str
) -> tuple[str, int]:
    data.seek(0)
    stored = await store.put_stream(key, data, content_type=content_type)  # type: ignore[arg-type]
    return stored.sha256, stored.size


def _presigned(
    store: EvidenceStore, key: str, filename: str, content_type: str, ttl_s: int
) -> dict[str, Any]:
    url = store.presign_get(key, ttl_s=ttl_s, filename=filename, content_type=content_type)
    return {
        "url": url,
        "expires_at": datetime.now(UTC) + timedelta(seconds=ttl_s),
        "object_key": key,
        "filename": filename,
    }


async def payroll(
    conn: asyncpg.Connection, caller: Caller, p: PayrollExport, *, store: EvidenceStore, ttl_s: int
) -> dict[str, Any]:
    row, root = await _approved(conn, caller, p)
    lo, hi = bounds(root)
    filename = f"工资发放_{row['assessing_unit']}_{row['period']}_{p.set_id}.{p.format}"
    key = f"rewards/exports/{uuid.uuid4().hex}/{filename}"
    with tempfile.SpooledTemporaryFile(max_size=64 << 20) as buf:
        if p.format == "csv":
            buf.write(BOM)
            status = await conn.copy_from_query(
                PAYROLL, p.set_id, lo, hi, row["period"], output=buf, format="csv", header=True
            )
            rows = int(status.split()[-1])
            content_type = CSV_TYPE
        else:
            wb = Workbook(write_only=True)
            ws = wb.create_sheet("工资发放")
            ws.append(list(HEADER))
            rows = 0
            for r in await conn.fetch(PAYROLL, p.set_id, lo, hi, row["period"]):
                ws.append([safe_cell(v) for v in r.values()])
                rows += 1
            wb.save(buf)
            content_type = XLSX_TYPE
        sha, size = await _put(store, key, buf, content_type)  # type: ignore[arg-type]
    return {
        **_presigned(store, key, filename, content_type, ttl_s),
        "format": p.format,
        "rows": rows,
        "bytes": size,
        "sha256": sha,
    }


async def ledger(
    conn: asyncpg.Connection, caller: Caller, p: LedgerExport, *, store: EvidenceStore, ttl_s: int
) -> dict[str, Any]:
    if p.unit_id is not None:
        if not access.reads_units(caller):
            caller.require(*access.READERS)
        await access.unit_path(conn, caller, p.unit_id)
        holder = f"unit:{p.unit_id}"
    elif p.person_key is not None:
        if not await may_read_person(conn, caller, p.person_key):
            raise NotFound(f"person {p.person_key} not found", field="person_key", code=E.NOT_FOUND)
        holder = f"person:{p.person_key}"
    else:
        from kaohe.errors import ValidationFailed

        raise ValidationFailed("unit_id: give unit_id or person_key", field="unit_id")
    entries, head = await ledger_repo.chain(conn, holder)
    head_row = ["档案", holder, "条目", len(entries), "末条哈希", head or ""]
    columns = (
        "序号",
        "类型",
        "期间",
        "单位",
        "事项",
        "规则",
        "文件依据",
        "金额(元)",
        "记录时间",
        "哈希",
        "撤销",
    )
    body = [
        [
            e.seq,
            "冲销" if e.payload["entry"] == "reversal" else "运用",
            e.payload["period"],
            e.payload["unit_id"],
            e.payload["consequence"],
            e.payload["rule_id"],
            e.payload["basis"],
            str(yuan(e.payload["amount_fen"])) if e.payload.get("amount_fen") is not None else "",
            e.payload["recorded_at"],
            e.hash,
            e.payload.get("reverses") or "",
        ]
        for e in entries
    ]
    name = holder.replace(":", "_")
    if p.format == "xlsx":
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("实绩档案")
        ws.append([safe_cell(v) for v in head_row])
        ws.append(list(columns))
        for b in body:
            ws.append([safe_cell(v) for v in b])
        buf = io.BytesIO()
        wb.save(buf)
        content_type, filename = XLSX_TYPE, f"实绩档案_{name}.xlsx"
    else:
        buf = io.BytesIO(_pdf(holder, head or "", columns, body))
        content_type, filename = "application/pdf", f"实绩档案_{name}.pdf"
    key = f"rewards/exports/{uuid.uuid4().hex}/{filename}"
    sha, size = await _put(store, key, buf, content_type)
    return {
        **_presigned(store, key, filename, content_type, ttl_s),
        "format": p.format,
        "rows": len(body),
        "bytes": size,
        "sha256": sha,
    }


def _pdf(holder: str, head: str, columns: tuple[str, ...], body: list[list[Any]]) -> bytes:
    """A plain 备案 PDF: one line per entry, the chain's head hash at the top."""
    from services.rewards.service.pdf import render

    return render(holder, head, columns, body)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
