"""Issuing documents (发文): gather the numbers, take the next 文号 under the office's counter lock, render,
store the files once, record the document — all in one transaction, so numbers have no gaps."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.documents import (
    KIND_ZH,
    BulletinIssue,
    DocumentPublic,
    LetterIssue,
    SlipIssue,
    SupervisionBulletinIssue,
)
from kaohe.contracts.periods import Period
from kaohe.db import Database
from kaohe.errors import ValidationFailed
from kaohe.identity import Caller, Role
from kaohe.storage import EvidenceStore
from services.documents.domain import letter
from services.documents.domain import supervision as sup
from services.documents.domain.bulletin import render_bulletin
from services.documents.domain.model import Bulletin, Heading, Slip
from services.documents.domain.slips import render_slip
from services.documents.domain.xlsx import bulletin_xlsx
from services.documents.repository import documents as repo
from services.documents.repository import templates
from services.documents.service import gather
from services.documents.service.store import download_url, put_once

OFFICE = (Role.assessment_office, Role.system)
CHINA = ZoneInfo("Asia/Shanghai")


class Issuer:
    """Everything issuing needs: the database, the store, an HTTP client for the store's PUTs."""

    def __init__(self, db: Database, store: EvidenceStore, http: httpx.AsyncClient, ttl_s: int) -> None:
        self.db, self.store, self.http, self.ttl_s = db, store, http, ttl_s

    async def bulletin(self, r: gather.Reader, p: BulletinIssue) -> dict[str, Any]:
        r.caller.require(*OFFICE)
        book = await gather.book(r, p.scheme_id, p.period)
        r.caller.require_covers(book.office_path, field="scheme_id")
        cats = await gather.categories(r, p, book)
        period = Period.parse(p.period)
        published = book.status == "published"
        title = p.title or f"关于{period.label}考核结果的通报"

        def render(heading: Heading) -> dict[str, bytes]:
            b = Bulletin(heading, book.scheme_name, period.label, period.previous().label, cats)
            pdf = render_bulletin(b)
            return {"pdf": pdf.data, "xlsx": bulletin_xlsx(b), "pages": pdf.pages}

        return await self._issue(
            r.caller,
            p,
            kind="bulletin",
            title=title,
            recipients=p.recipients or "各被考核单位",
            published=published,
            snapshot_id=book.snapshot_id if published else None,
            subject={
                "scheme_id": p.scheme_id,
                "period": p.period,
                "unit_id": None,
                "subject_path": book.office_path,
                "audience": "subtree",
            },
            render=render,
        )

    async def slip(self, r: gather.Reader, p: SlipIssue) -> dict[str, Any]:
        r.caller.require(*OFFICE)
        unit = await gather.unit_view(r, p)
        r.caller.require_covers(unit.path, field="unit_id")
        book = await gather.book(r, p.scheme_id, p.period)
        period = Period.parse(p.period)
        kind = f"{p.kind}_slip"
        published = book.status == "published"

        def render(heading: Heading) -> dict[str, bytes]:
            s = Slip(
                heading,
                p.kind,
                unit.name,
                period.label,
                unit.total,
                unit.rank,
                unit.of,
                unit.lagging,
                p.request or "",
            )
            pdf = render_slip(s)
            return {"pdf": pdf.data, "pages": pdf.pages}

        return await self._issue(
            r.caller,
            p,
            kind=kind,
            title=f"{unit.name}{period.label}序时进度{KIND_ZH[kind]}",
            recipients=p.recipients or unit.name,
            published=published,
            snapshot_id=book.snapshot_id if published else None,
            subject={
                "scheme_id": p.scheme_id,
                "period": p.period,
                "unit_id": unit.unit_id,
                "subject_path": unit.path,
                "audience": "unit",
            },
            render=render,
        )

    async def letter(self, r: gather.Reader, p: LetterIssue) -> dict[str, Any]:
        r.caller.require(*OFFICE)
        slip = SlipIssue(**p.model_dump(exclude={"title"}))
        unit = await gather.unit_view(r, slip)
        r.caller.require_covers(unit.path, field="unit_id")
        book = await gather.book(r, p.scheme_id, p.period)
        period = Period.parse(p.period)
        published = book.status == "published"
        async with self.db.uow() as s:
            template = await letter_template(s, p.office_code)
        values = {
            "unit_name": unit.name,
            "period": period.label,
            "total": f"{unit.total:.2f}" if unit.total is not None else "—",
            "rank": str(unit.rank or "—"),
            "of": str(unit.of or "—"),
            "lagging": _lagging_sentence(unit.lagging),
            "office": p.office,
        }

        def render(heading: Heading) -> dict[str, Any]:
            pdf = letter.render_letter(
                heading, letter.fill(template["body"], values | {"date": heading.date})
            )
            return {"pdf": pdf.data, "pages": pdf.pages}

        return await self._issue(
            r.caller,
            p,
            kind="letter",
            title=p.title or f"关于{period.label}考核工作的提示函",
            recipients="",
            published=published,
            snapshot_id=book.snapshot_id if published else None,
            subject={
                "scheme_id": p.scheme_id,
                "period": p.period,
                "unit_id": unit.unit_id,
                "subject_path": unit.path,
                "audience": "unit",
            },
            render=render,
        )

    async def supervision(self, r: gather.Reader, p: SupervisionBulletinIssue) -> dict[str, Any]:
        r.caller.require(*OFFICE)
        unit = await r.call("indicators", "unit_get", {"unit_id": p.unit_id})
        r.caller.require_covers(unit["path"], field="unit_id")
        rows = await gather.supervision_lines(r, unit["path"], p.period)
        period = Period.parse(p.period)
        lines = tuple(
            sup.UnitLine(
                x.get("unit_name") or x["unit_id"],
                int(x["items"]),
                int(x["lead_items"]),
                int(x["closed"]),
                int(x["overdue"]),
                x.get("on_time_rate"),
                int(x["yellow_cards"]),
                int(x["red_cards"]),
            )
            for x in sorted(rows, key=lambda x: x["unit_path"])
        )

        def render(heading: Heading) -> dict[str, Any]:
            pdf = sup.render_supervision(sup.SupervisionBulletin(heading, unit["name"], period.label, lines))
            return {"pdf": pdf.data, "pages": pdf.pages}

        return await self._issue(
            r.caller,
            p,
            kind="supervision_bulletin",
            title=p.title or f"关于{period.label}督查督办工作情况的通报",
            recipients=p.recipients or "各有关单位",
            published=True,  # supervision's figures are records, not preliminary results
            snapshot_id=None,
            subject={
                "scheme_id": None,
                "period": p.period,
                "unit_id": unit["id"],
                "subject_path": unit["path"],
                "audience": "subtree",
            },
            render=render,
        )

    async def _issue(
        self,
        caller: Caller,
        p: BulletinIssue | SlipIssue | LetterIssue | SupervisionBulletinIssue,
        *,
        kind: str,
        title: str,
        recipients: str,
        published: bool,
        snapshot_id: str | None,
        subject: dict[str, Any],
        render: Any,
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        local = now.astimezone(CHINA)
        doc_id = uuid.uuid4().hex
        async with self.db.uow() as s:
            seq = await repo.next_number(s, p.office_code, local.year)  # locked until commit
            number = f"{p.office_code}〔{local.year}〕{seq}号"
            note = f"本{KIND_ZH[kind]}依据已发布的考核结果（快照 {snapshot_id}）。" if snapshot_id else None
            if kind == "supervision_bulletin":
                note = "本通报依据督查督办系统记录。"
            heading = Heading(
                p.office,
                number,
                title,
                recipients,
                f"{local.year}年{local.month}月{local.day}日",
                preliminary=not published,
                published_note=note,
            )
            files = await asyncio.to_thread(render, heading)
            pages = files.pop("pages")
            stored = []
            for fmt, data in files.items():
                stored.append(await put_once(self.store, self.http, f"documents/{doc_id}.{fmt}", data, fmt))
            row = {
                "id": doc_id,
                "kind": kind,
                "office_code": p.office_code,
                "year": local.year,
                "seq": seq,
                "number": number,
                "title": title,
                **subject,
                "status": "published" if published else "preliminary",
                "snapshot_id": snapshot_id,
                "pages": pages,
                "files": stored,
                "issued_by": caller.user_id,
                "issued_at": now,
            }
            await repo.insert(s, row)
        return self.public(row, urls=True)

    def public(self, row: dict[str, Any], *, urls: bool = False) -> dict[str, Any]:
        files = []
        for f in row["files"]:
            out = {k: f[k] for k in ("format", "sha256", "size")}
            if urls:
                out["url"] = download_url(
                    self.store, f, f"{row['number']}{row['title']}.{f['format']}", self.ttl_s
                )
            files.append(out)
        doc = DocumentPublic(
            document_id=row["id"],
            kind=row["kind"],
            kind_zh=KIND_ZH[row["kind"]],
            number=row["number"],
            office_code=row["office_code"],
            year=row["year"],
            seq=row["seq"],
            title=row["title"],
            scheme_id=row["scheme_id"],
            period=row["period"],
            unit_id=row["unit_id"],
            subject_path=row["subject_path"],
            status=row["status"],
            snapshot_id=row["snapshot_id"],
            pages=row["pages"],
            files=files,
            issued_by=row["issued_by"],
            issued_at=row["issued_at"].isoformat(),
        )
        return doc.model_dump(mode="json")


def _lagging_sentence(lagging: tuple[Any, ...]) -> str:
    if not lagging:
        return "各项指标均符合序时进度。"
    parts = "、".join(f"“{x.name}”滞后{x.lag:.1%}（{x.level_zh}）" for x in lagging[:5])
    return f"其中{parts}，滞后于序时进度。"


async def letter_template(s: AsyncSession, office_code: str) -> dict[str, Any]:
    """The office's 提示函 template, or the default one (`custom: false`) until it saves its own."""
    row = await templates.get(s, office_code)
    if row is None:
        return {
            "office_code": office_code,
            "body": letter.DEFAULT_TEMPLATE,
            "custom": False,
            "updated_by": None,
            "updated_at": None,
            "fields": letter.FIELDS,
        }
    return {**row, "custom": True, "updated_at": row["updated_at"].isoformat(), "fields": letter.FIELDS}


async def letter_template_set(s: AsyncSession, caller: Caller, office_code: str, body: str) -> dict[str, Any]:
    caller.require(*OFFICE)
    found = letter.problems(body)
    if found:
        raise ValidationFailed(f"body: {found[0]}", field="body", code="bad_template")
    await templates.put(s, office_code, body, caller.user_id, datetime.now(UTC))
    return await letter_template(s, office_code)


async def get(issuer: Issuer, s: AsyncSession, caller: Caller, document_id: str) -> dict[str, Any]:
    from kaohe.errors import NotFound

    row = await repo.get(s, caller, document_id)
    if row is None:
        raise NotFound(f"document {document_id} not found", field="document_id")
    return issuer.public(row, urls=True)
