"""The bulletin's tables as a workbook (排名表): one sheet per category; text cells pass kaohe.exports."""

from __future__ import annotations

import io

from openpyxl import Workbook

from kaohe.exports import safe_cell
from services.documents.domain.model import COLOUR_ZH, Bulletin


def bulletin_xlsx(b: Bulletin) -> bytes:
    wb = Workbook(write_only=True)
    for cat in b.categories:
        ws = wb.create_sheet(_sheet_title(cat.name))
        names = [s.name for s in cat.rows[0].level1] if cat.rows else []
        ws.append([safe_cell(f"{b.heading.title}（{b.heading.number}）")])
        ws.append(["名次", "单位", "总分", *[safe_cell(n) for n in names], "等次", "三色"])
        for r in cat.rows:
            scores = {s.name: s.score for s in r.level1}
            ws.append(
                [
                    r.rank,
                    safe_cell(r.unit_name),
                    round(r.total, 2),
                    *[round(scores[n], 2) if n in scores else None for n in names],
                    r.grade,
                    COLOUR_ZH.get(r.colour or ""),
                ]
            )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet_title(name: str) -> str:
    bad = set("[]:*?/\\")
    return "".join("_" if c in bad else c for c in name)[:31] or "分类"
