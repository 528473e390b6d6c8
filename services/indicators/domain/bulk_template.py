"""Bulk submission contexts and templates (批量填报模板): who fills what, as CSV or XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import IO

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter

from kaohe.contracts.periods import Period, normalize
from kaohe.contracts.scheme import DataSource, Scheme, all_indicators
from kaohe.exports import safe_cell

from .bulk import HEADERS, KEY, NOTE, VALUE, AssessedUnit, ImportContext, TemplateRow
from .errors import fmt
from .values import KIND_ZH, FieldSpec, submission_fields

# --- contexts --------------------------------------------------------------------------------------


def _known_codes(scheme: Scheme) -> frozenset[str]:
    return frozenset([ind.code for ind, _ in all_indicators(scheme)] + [e.name for e in scheme.data_elements])


def unit_context(
    scheme: Scheme, unit: AssessedUnit, period: str, *, source: DataSource = "unit_report"
) -> ImportContext:
    """Context for one unit filling in its own indicators (按单位填报)."""
    fields = submission_fields(scheme, unit.id, unit.category, source=source)
    return ImportContext(
        period=_canonical(period),
        expected={(unit.id, code): spec for code, spec in fields.items()},
        unit_names={unit.id: unit.name},
        known_codes=_known_codes(scheme),
    )


def department_context(
    scheme: Scheme,
    department: str,
    units: Sequence[AssessedUnit],
    period: str,
    *,
    source: DataSource = "department",
) -> ImportContext:
    """Context for a responsible department (责任部门) filling its indicators × the units they apply to."""
    per_unit = {
        u.id: submission_fields(scheme, u.id, u.category, source=source, department=department) for u in units
    }
    codes = list(dict.fromkeys(code for fields in per_unit.values() for code in fields))
    expected = {(u.id, code): per_unit[u.id][code] for code in codes for u in units if code in per_unit[u.id]}
    return ImportContext(
        period=_canonical(period),
        expected=expected,
        unit_names={u.id: u.name for u in units},
        known_codes=_known_codes(scheme),
    )


def _canonical(period: str) -> str:
    canonical = normalize(period)
    if canonical is None:
        raise ValueError(f"not a period: {period!r}")
    return canonical


# --- templates -------------------------------------------------------------------------------------


def describe_spec(spec: FieldSpec) -> str:
    """The 取值要求 cell: kind, range or grades, evidence."""
    v = spec.value
    parts = [KIND_ZH[v.kind]]
    if v.kind == "grade":
        parts.append("/".join(v.grades))
    low = v.min_value if v.min_value is not None else (0.0 if v.kind in ("count", "percent") else None)
    high = v.max_value if v.max_value is not None else (100.0 if v.kind == "percent" else None)
    if low is not None or high is not None:
        parts.append(f"{fmt(low) if low is not None else ''}~{fmt(high) if high is not None else ''}")
    if spec.evidence_required:
        parts.append("须附佐证")
    return " ".join(parts)


def _safe(text: str) -> str:
    # a display cell starting with = + - @ would run as a formula when the file is opened in Excel; the
    # import reads only the key columns (unit and indicator codes, period, value, note), never names
    return str(safe_cell(text))


def template_rows(ctx: ImportContext) -> list[TemplateRow]:
    """One empty row per expected (unit, indicator), in the context's order."""
    label = Period.parse(ctx.period).label
    return [
        TemplateRow(uid, _safe(ctx.unit_names[uid]), code, _safe(spec.name), _safe(spec.unit_of_measure),
                    _safe(describe_spec(spec)), label, "", "")
        for (uid, code), spec in ctx.expected.items()
    ]  # fmt: skip


def write_csv(ctx: ImportContext, out: IO[bytes]) -> None:
    """Write the template as UTF-8 CSV with a BOM, so Excel opens the Chinese headers correctly."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow(HEADERS)
    writer.writerows(template_rows(ctx))
    text.flush()
    text.detach()  # leave the caller's stream open


def write_xlsx(ctx: ImportContext, out: IO[bytes]) -> None:
    """Write the template as XLSX: only 数值 and 说明 editable, a hidden 校验键 column guarding the keys."""
    wb = openpyxl.Workbook(write_only=True)  # streams rows: a 36k-row department template stays fast
    ws = wb.create_sheet("填报")
    for c, width in enumerate((14, 22, 14, 36, 10, 22, 14, 14, 30, 10), start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.column_dimensions[get_column_letter(len(HEADERS) + 1)].hidden = True
    ws.freeze_panes = "A2"
    # no password: the lock prevents slips, and the 校验键 catches edits made after unlocking
    ws.protection.sheet = True
    head = Font(bold=True)
    center = Alignment(horizontal="center")
    editable = PatternFill("solid", fgColor="FFF2CC")
    unlocked = Protection(locked=False)

    def cell(value: str, *, header: bool = False, open_: bool = False) -> WriteOnlyCell:
        c = WriteOnlyCell(ws, value=value)
        if header:
            c.font, c.alignment = head, center
        if open_:
            c.protection, c.fill = unlocked, editable
        return c

    ws.append([cell(h, header=True) for h in (*HEADERS, KEY)])
    value_at, note_at = HEADERS.index(VALUE), HEADERS.index(NOTE)
    for row in template_rows(ctx):
        cells: list[object] = list(row)
        cells[value_at] = cell("", open_=True)
        cells[note_at] = cell("", open_=True)
        ws.append([*cells, f"{row.unit_id}|{row.indicator_code}|{ctx.period}"])
    wb.save(out)
