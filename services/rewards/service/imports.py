"""Roster import (干部名册导入): a CSV or XLSX file checked cell by cell (dry run), then committed whole.

Problems name the row and the column header, never the ID number or the name in the cell. The commit
re-reads the same file (its SHA-256 must be the dry run's) and writes all rows or none: persons by the
keyed hash of their ID number, a new post where the person's post on that date differs (a move ends the
old one: history kept), and the persons' own grades of a period when the file has them.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import asyncpg
from openpyxl import load_workbook

from kaohe.contracts.periods import Period
from kaohe.contracts.rewards import ID_NUMBER, ImportCommit, ImportFile
from kaohe.errors import Conflict, ValidationFailed
from kaohe.identity import Caller
from kaohe.storage import EvidenceStore
from services.rewards.domain.inputs import POSTS
from services.rewards.domain.money import to_fen
from services.rewards.errors import RewardsErrorCode as E
from services.rewards.repository import registry as repo
from services.rewards.repository import units
from services.rewards.service import access
from services.rewards.service.registry import id_hmac, new_key

HEADERS = {
    "身份证号": "id_number",
    "姓名": "name",
    "单位代码": "unit_id",
    "职务类别": "post",
    "职级": "rank",
    "月绩效基数(元)": "pay",
    "任职日期": "valid_from",
    "登录账号": "account",
    "期间": "period",
    "个人等次": "grade",
}
REQUIRED = ("身份证号", "姓名", "单位代码", "职务类别", "职级", "月绩效基数(元)", "任职日期")
_ID = re.compile(ID_NUMBER)
GRADES = ("优秀", "良好", "一般", "较差")
MAX_BYTES = 20_000_000


@dataclass
class Row:
    n: int
    id_hmac: str
    name: str
    unit_id: str
    post: str
    rank: str
    pay_fen: int
    valid_from: date
    account: str | None
    period: str | None
    grade: str | None


@dataclass
class Parsed:
    digest: str
    rows: list[Row] = field(default_factory=list)
    units: list[tuple[int, str]] = field(default_factory=list)  # every row's unit code, bad rows too
    total: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)


async def read_bytes(p: ImportFile, store: EvidenceStore | None) -> bytes:
    if p.content_b64 is not None:
        try:
            return base64.b64decode(p.content_b64, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed("content_b64: not base64", field="content_b64") from None
    if store is None:
        raise ValidationFailed("object_key: no object store configured", field="object_key")
    key = p.object_key
    assert key is not None

    def work() -> bytes:
        resp = store.client.get_object(store.bucket, key)
        try:
            return resp.read(MAX_BYTES + 1)  # type: ignore[no-any-return]
        finally:
            resp.close()
            resp.release_conn()

    try:
        data: bytes = await store._run(work)
    except Exception:
        raise ValidationFailed(f"object_key: {key} cannot be read", field="object_key") from None
    if len(data) > MAX_BYTES:
        raise ValidationFailed("object_key: the file is larger than 20 MB", field="object_key")
    return data


def table(filename: str, data: bytes) -> list[list[Any]]:
    """The file's cells row by row (CSV: UTF-8 with or without BOM, or GB18030)."""
    if filename.lower().endswith(".xlsx"):
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:
            raise ValidationFailed("filename: not a readable XLSX file", field="filename") from None
        return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationFailed("filename: the CSV is neither UTF-8 nor GB18030", field="filename")
    return [list(r) for r in csv.reader(io.StringIO(text))]


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v == int(v):
        v = int(v)
    return str(v).strip()


def _date(v: Any) -> date | None:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(_text(v).replace("/", "-"))
    except ValueError:
        return None


def parse(filename: str, data: bytes, hmac_key: bytes) -> Parsed:
    out = Parsed(hashlib.sha256(data).hexdigest())
    cells = table(filename, data)
    if not cells:
        out.problems.append({"row": 0, "field": "表头", "message": "the file is empty"})
        return out
    header = [_text(h) for h in cells[0]]
    missing = [h for h in REQUIRED if h not in header]
    if missing:
        out.problems.extend({"row": 0, "field": h, "message": "required column is missing"} for h in missing)
        return out
    col = {HEADERS[h]: i for i, h in enumerate(header) if h in HEADERS}
    for n, raw in enumerate(cells[1:], 1):
        if not any(_text(v) for v in raw):
            continue
        out.total += 1
        got = {k: (raw[i] if i < len(raw) else None) for k, i in col.items()}
        bad = len(out.problems)

        def problem(head: str, message: str, n: int = n) -> None:
            out.problems.append({"row": n, "field": head, "message": message})

        idn = _text(got["id_number"]).upper()
        if not _ID.fullmatch(idn):
            problem("身份证号", "not an ID-card number (18 characters, or 15 digits)")
        name = _text(got["name"])
        if not 1 <= len(name) <= 50:
            problem("姓名", "required, at most 50 characters")
        unit_id = _text(got["unit_id"])
        if not re.fullmatch(r"[0-9A-Za-z_-]{1,40}", unit_id):
            problem("单位代码", "not a unit code")
        else:
            out.units.append((n, unit_id))
        post = _text(got["post"])
        if post not in POSTS:
            problem("职务类别", f"one of {'/'.join(POSTS)}")
        rank = _text(got["rank"])
        if not 1 <= len(rank) <= 20:
            problem("职级", "required, at most 20 characters")
        try:
            pay = Decimal(_text(got["pay"]))
            if pay < 0 or pay != pay.quantize(Decimal("0.01")):
                raise InvalidOperation
            pay_fen = to_fen(pay * 100)
        except (InvalidOperation, ValueError):
            problem("月绩效基数(元)", "a non-negative amount of yuan with at most 2 decimals")
            pay_fen = 0
        since = _date(got["valid_from"])
        if since is None:
            problem("任职日期", "a date YYYY-MM-DD")
        account = _text(got.get("account")) or None
        period = _text(got.get("period")) or None
        grade = _text(got.get("grade")) or None
        if period is not None:
            read = Period.read(period)
            period = str(read) if read else None
            if read is None:
                problem("期间", "a period such as 2026-Q1, 2026 or 2026-03")
        if grade is not None and grade not in GRADES:
            problem("个人等次", f"one of {'/'.join(GRADES)}")
        if grade is not None and period is None and "期间" not in [p["field"] for p in out.problems[bad:]]:
            problem("期间", "a grade needs its period")
        if len(out.problems) == bad:
            assert since is not None
            out.rows.append(
                Row(
                    n,
                    id_hmac(hmac_key, idn),
                    name,
                    unit_id,
                    post,
                    rank,
                    pay_fen,
                    since,
                    account,
                    period,
                    grade,
                )
            )
    return out


async def check(conn: asyncpg.Connection, caller: Caller, parsed: Parsed) -> dict[str, Any]:
    """Units known and in scope; what a commit would write (new persons, posts, unchanged rows)."""
    paths = await units.paths_of(conn, sorted({u for _, u in parsed.units}))
    for n, u in parsed.units:
        if u not in paths or not caller.covers(paths[u]):
            parsed.problems.append({"row": n, "field": "单位代码", "message": f"unit {u} not found"})
    seen: dict[str, int] = {}
    for r in parsed.rows:
        if r.id_hmac in seen:
            parsed.problems.append(
                {"row": r.n, "field": "身份证号", "message": f"the same person as row {seen[r.id_hmac]}"}
            )
        seen.setdefault(r.id_hmac, r.n)
    known = await repo.keys_by_hmac(conn, list(seen))
    new_posts = unchanged = 0
    for r in parsed.rows:
        key = known.get(r.id_hmac)
        cur = await repo.current_post(conn, key, r.valid_from) if key else None
        if cur is not None and (cur["unit_id"], cur["post"], cur["rank"], cur["monthly_pay_fen"]) == (
            r.unit_id, r.post, r.rank, r.pay_fen,
        ):  # fmt: skip
            unchanged += 1
        else:
            new_posts += 1
    parsed.problems.sort(key=lambda p: (p["row"], p["field"]))
    return {
        "digest": parsed.digest,
        "rows": parsed.total,
        "valid": parsed.total - len({p["row"] for p in parsed.problems if p["row"] > 0}),
        "problems": parsed.problems[:1000],
        "new_persons": len(set(seen) - set(known)),
        "new_posts": new_posts,
        "unchanged": unchanged,
        "grades": sum(1 for r in parsed.rows if r.grade is not None),
        "committed": False,
    }


async def dry_run(
    conn: asyncpg.Connection, caller: Caller, p: ImportFile, *, store: EvidenceStore | None, hmac_key: bytes
) -> dict[str, Any]:
    access.require(caller, *access.REGISTRY_WRITERS)
    parsed = parse(p.filename, await read_bytes(p, store), hmac_key)
    return await check(conn, caller, parsed)


async def commit(
    conn: asyncpg.Connection, caller: Caller, p: ImportCommit, *, store: EvidenceStore | None, hmac_key: bytes
) -> dict[str, Any]:
    access.require(caller, *access.REGISTRY_WRITERS)
    parsed = parse(p.filename, await read_bytes(p, store), hmac_key)
    if parsed.digest != p.expected_digest:
        raise Conflict("the file differs from the dry run's", field="expected_digest", code=E.IMPORT_CHANGED)
    report = await check(conn, caller, parsed)
    if report["problems"]:
        raise ValidationFailed(
            f"{len(report['problems'])} problem(s): fix the file and run the dry run again",
            field="content_b64" if p.content_b64 is not None else "object_key",
            code=E.IMPORT_INVALID,
            details=report["problems"][:100],
        )
    keys: dict[str, str] = {}
    for r in parsed.rows:
        rec = await repo.upsert_person(conn, new_key(), r.id_hmac, r.name, r.account)
        keys[r.id_hmac] = rec["person_key"]
    for r in parsed.rows:
        key = keys[r.id_hmac]
        cur = await repo.current_post(conn, key, r.valid_from)
        if cur is None or (cur["unit_id"], cur["post"], cur["rank"], cur["monthly_pay_fen"]) != (
            r.unit_id, r.post, r.rank, r.pay_fen,
        ):  # fmt: skip
            await repo.open_post(
                conn,
                person_key=key,
                unit_id=r.unit_id,
                post=r.post,
                rank=r.rank,
                monthly_pay_fen=r.pay_fen,
                valid_from=r.valid_from,
                keep_others=False,
            )
        if r.grade is not None and r.period is not None:
            await repo.set_grades(conn, r.period, [(key, r.grade)])
    return {**report, "committed": True}
