"""督办清单 as XLSX: import (a dry run lists every problem by row and column; commit is all or nothing)
and export of a filtered list (cells a spreadsheet would run as a formula are written as text).

Columns (header row, in any order): 编号 (optional), 标题, 问题, 来源 (上级交办 / 领导批示 / … or the enum
value), 来源依据, 牵头单位, 牵头任务, 配合单位 and 配合任务 (several separated by 、 or ;), 配合时限
(optional, same separators; default the 时限), 时限 (a date), 举措 (separated by ;), 缓急 (特急/加急/一般).
"""

from __future__ import annotations

import base64
import io
import re
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.supervision import ExportFile, ImportProblem, ImportReport
from kaohe.contracts.supervision_rpc import ExportParams, ImportParams, ItemCreateParams
from kaohe.errors import KaoheError
from kaohe.exports import safe_row
from kaohe.identity import Caller, Role
from services.supervision.domain import (
    SOURCE_ZH,
    ItemNumber,
    Milestone,
    Priority,
    Source,
    SourceRef,
    SupervisionItem,
)
from services.supervision.errors import ImportInvalid
from services.supervision.repository import items as item_repo
from services.supervision.repository import lists
from services.supervision.service import items
from services.supervision.service.context import Ctx
from services.supervision.service.convert import STATUS_ZH
from services.supervision.service.reads import publics

HEAD = {
    "编号": "number",
    "标题": "title",
    "问题": "problem",
    "来源": "source",
    "来源依据": "source_ref",
    "牵头单位": "lead",
    "牵头任务": "lead_task",
    "配合单位": "coop",
    "配合任务": "coop_task",
    "配合时限": "coop_deadline",
    "时限": "deadline",
    "举措": "measures",
    "缓急": "priority",
}
COLUMN = {v: k for k, v in HEAD.items()}
REQUIRED = ("title", "problem", "source", "source_ref", "lead", "lead_task", "deadline")
SOURCE_BY_ZH = {zh: str(s) for s, zh in SOURCE_ZH.items()}
PRIORITY_ZH = {"特急": "urgent", "加急": "high", "一般": "normal"}
SPLIT = re.compile(r"[、;；]")
READERS = (Role.supervisor, Role.leader, Role.assessment_office, Role.system)


def _text(v: Any) -> str:
    return "" if v is None else str(v).strip()


def _date(v: Any) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    parts = re.split(
        r"[-/.年月日]", _text(v).split(" ")[0].rstrip("日")
    )  # 2026-07-01, 2026/7/1, 2026年7月1日
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a date: {v!r}")
    return date(int(parts[0]), int(parts[1]), int(parts[2]))


def _parts(v: Any) -> list[str]:
    return [x.strip() for x in SPLIT.split(_text(v)) if x.strip()]


def read_rows(content_base64: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        raw = base64.b64decode(content_base64, validate=True)
        wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as e:  # any reader failure (bad base64, not a zip, not a workbook) is the file's fault
        raise ImportInvalid(
            f"content_base64: not a readable XLSX file ({type(e).__name__})", field="content_base64"
        ) from e
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    if not rows:
        raise ImportInvalid("content_base64: the sheet is empty", field="content_base64")
    header = [HEAD.get(_text(h)) for h in rows[0]]
    missing = [COLUMN[f] for f in REQUIRED if f not in header]
    if missing:
        raise ImportInvalid(f"content_base64: missing columns {'、'.join(missing)}", field="content_base64")
    out = []
    for n, values in enumerate(rows[1:], start=2):
        if all(_text(v) == "" for v in values):
            continue
        out.append((n, {f: v for f, v in zip(header, values, strict=False) if f}))
    return out


def to_params(office_id: str, r: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The row as item_create params, and the (field, message) problems found reading it."""
    problems: list[tuple[str, str]] = []
    for f in REQUIRED:
        if _text(r.get(f)) == "":
            problems.append((f, f"{COLUMN[f]}不能为空"))
    try:
        deadline = _date(r.get("deadline"))
    except ValueError:
        deadline = None
        if _text(r.get("deadline")):
            problems.append(("deadline", f"时限不是日期: {_text(r.get('deadline'))}"))
    source = _text(r.get("source"))
    source = SOURCE_BY_ZH.get(source, source)
    if source and source not in {str(s) for s in Source}:
        problems.append(("source", f"来源无法识别: {source}"))
    prio = _text(r.get("priority")) or "一般"
    prio = PRIORITY_ZH.get(prio, prio)
    coop, tasks = _parts(r.get("coop")), _parts(r.get("coop_task"))
    if len(coop) != len(tasks):
        problems.append(("coop_task", f"配合单位{len(coop)}个, 配合任务{len(tasks)}条: 数目应一致"))
    dls: list[Any] = _parts(r.get("coop_deadline")) or [deadline] * len(coop)
    try:
        dls = [x if isinstance(x, date) or x is None else _date(x) for x in dls]
    except ValueError:
        problems.append(("coop_deadline", "配合时限不是日期"))
        dls = [deadline] * len(coop)
    params = {
        "title": _text(r.get("title")),
        "problem": _text(r.get("problem")),
        "source": source,
        "source_ref": _text(r.get("source_ref")),
        "office_id": office_id,
        "lead": {"unit_id": _text(r.get("lead")), "task": _text(r.get("lead_task")), "deadline": deadline},
        "cooperating": [
            {"unit_id": u, "task": t, "deadline": d} for u, t, d in zip(coop, tasks, dls, strict=False)
        ],
        "deadline": deadline,
        "measures": _parts(r.get("measures")),
        "priority": prio,
        "number": _text(r.get("number")) or None,
    }
    return params, problems


def _field_column(fld: str | None) -> tuple[str, str]:
    f = (fld or "").split(".")[0].split("[")[0]
    key = {"cooperating": "coop", "lead": "lead", "office_id": "lead"}.get(f, f)
    return fld or "", COLUMN.get(key, fld or "")


async def check(s: AsyncSession, office_id: str, r: dict[str, Any], seen: set[str]) -> list[tuple[str, str]]:
    params, problems = to_params(office_id, r)
    if problems:
        return problems
    try:
        p = ItemCreateParams.model_validate(params)
        await items.unit_rows(s, {"office_id": office_id} | items.unit_fields(p.lead, p.cooperating))
        if p.number:
            n = str(ItemNumber.parse(p.number))
            if n in seen or await item_repo.number_taken(s, office_id, n):
                return [("number", f"编号{n}已被使用")]
            seen.add(n)
        lead, coop = items.tasks_of(p.lead, p.cooperating)
        SupervisionItem(
            id="check",
            number=ItemNumber(2000, 1),
            title=p.title,
            problem=p.problem,
            source=SourceRef(Source(p.source), p.source_ref),
            office_id=office_id,
            lead=lead,
            deadline=p.deadline,
            cooperating=coop,
            measures=tuple(p.measures),
            milestones=tuple(Milestone(m.title, m.due) for m in p.milestones),
            priority=Priority(p.priority),
        )
    except ValidationError as e:
        return [(".".join(str(x) for x in err["loc"]), err["msg"]) for err in e.errors()]
    except KaoheError as e:
        return [(e.field or "", e.message)]
    return []


async def import_items(s: AsyncSession, ctx: Ctx, caller: Caller, p: ImportParams) -> ImportReport:
    """Dry run: every problem, nothing stored. Commit: all rows, or — with any problem — none."""
    office = (await items.unit_rows(s, {"office_id": p.office_id}))["office_id"]
    items.require_office(caller, office["path"])
    rows = read_rows(p.content_base64)
    problems: list[ImportProblem] = []
    seen: set[str] = set()
    for n, r in rows:
        for fld, msg in await check(s, p.office_id, r, seen):
            f, col = _field_column(fld)
            problems.append(ImportProblem(row=n, column=col, field=f, message=msg))
    bad = {x.row for x in problems}
    report = ImportReport(dry_run=p.dry_run, rows=len(rows), valid=len(rows) - len(bad), problems=problems)
    if p.dry_run or problems:
        return report
    for _, r in rows:
        params, _ = to_params(p.office_id, r)
        report.created.append(await items.create(s, ctx, caller, ItemCreateParams.model_validate(params)))
    return report


COLUMNS_OUT = [
    "编号",
    "标题",
    "问题",
    "来源",
    "来源依据",
    "牵头单位",
    "牵头任务",
    "配合单位",
    "配合任务",
    "时限",
    "举措",
    "缓急",
    "状态",
    "逾期",
    "黄牌",
    "红牌",
]


async def export(s: AsyncSession, ctx: Ctx, caller: Caller, p: ExportParams) -> ExportFile:
    caller.require(*READERS)
    rows = (await lists.page(s, caller, p, now=ctx.now()))[: p.first]
    pubs = await publics(s, ctx, caller, rows)
    wb = Workbook()
    ws = wb.active
    ws.title = "督办清单"
    ws.append(COLUMNS_OUT)
    zh_prio = {v: k for k, v in PRIORITY_ZH.items()}
    for x in pubs:
        ws.append(
            safe_row(
                [
                    x.number,
                    x.title,
                    x.problem,
                    x.source_zh,
                    x.source_ref,
                    x.lead.unit_id,
                    x.lead.task,
                    "、".join(t.unit_id for t in x.cooperating),
                    "、".join(t.task for t in x.cooperating),
                    x.deadline.isoformat(),
                    ";".join(x.measures),
                    zh_prio[str(x.priority)],
                    STATUS_ZH[str(x.status)],
                    "是" if x.overdue else "否",
                    x.yellow_cards,
                    x.red_cards,
                ]
            )
        )
    buf = io.BytesIO()
    wb.save(buf)
    name = f"督办清单-{ctx.now().date().isoformat()}.xlsx"
    return ExportFile(filename=name, content_base64=base64.b64encode(buf.getvalue()).decode(), rows=len(pubs))
