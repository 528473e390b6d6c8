"""The 备案 PDF of a ledger (实绩档案): a landscape A4 table, CJK font embedded, the head hash on top."""

from __future__ import annotations

from typing import Any

import pylopdf_fonts_zh_cn
from fpdf import FPDF, FontFace

WIDTHS = (10, 12, 16, 18, 26, 18, 60, 20, 30, 40, 27)


def render(holder: str, head: str, columns: tuple[str, ...], body: list[list[Any]]) -> bytes:
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.add_font("sans", fname=str(pylopdf_fonts_zh_cn.sans_path()))
    pdf.set_auto_page_break(True, margin=12)
    pdf.set_title(f"实绩档案 {holder}")
    pdf.set_creator("Kaohe 考核")
    pdf.add_page()
    pdf.set_font("sans", size=14)
    pdf.cell(0, 8, f"实绩档案（结果运用）{holder}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("sans", size=7)
    pdf.cell(0, 5, f"共 {len(body)} 条；末条哈希 {head}", new_x="LMARGIN", new_y="NEXT")
    with pdf.table(col_widths=WIDTHS, text_align="LEFT", line_height=4, headings_style=FontFace()) as table:
        row = table.row()
        for c in columns:
            row.cell(c)
        for values in body:
            row = table.row()
            for v in values:
                text = str(v)
                row.cell(text if len(text) <= 90 else text[:87] + "…")
    return bytes(pdf.output())
