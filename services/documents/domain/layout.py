"""The page of an office document (公文版式): 红头, 文号, title, 主送, page numbers, the 初步结果 watermark.

A4 with the margins of GB/T 9704 (top 37 mm, left 28 mm, right 26 mm); Noto Serif SC for the body and
Noto Sans SC for headings, both embedded (subset) from the `pylopdf-fonts-zh-cn` package so the PDF
renders identically everywhere. Page numbers are printed as `— 1 —` centred at the foot.
"""

from __future__ import annotations

import re
from functools import cache

import pylopdf_fonts_zh_cn
from fpdf import FPDF

from services.documents.domain.model import Heading

RED = (200, 16, 46)
INK = (20, 20, 20)
GREY = (110, 110, 110)
SERIF, SANS = "serif", "sans"
WATERMARK = "初步结果"


@cache
def font_paths() -> tuple[str, str]:
    return str(pylopdf_fonts_zh_cn.serif_path()), str(pylopdf_fonts_zh_cn.sans_path())


class OfficePdf(FPDF):
    """An A4 document with the CJK fonts, the page-number footer and, for preliminary data, a watermark."""

    def __init__(self, heading: Heading) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.heading = heading
        serif, sans = font_paths()
        self.add_font(SERIF, fname=serif)
        self.add_font(SANS, fname=sans)
        self.set_margins(28, 30, 26)
        self.set_auto_page_break(True, margin=24)
        self.set_title(heading.title)
        self.set_creator("Kaohe 考核")
        self.set_author(heading.office)

    def header(self) -> None:
        if self.heading.preliminary:
            with self.local_context(text_color=(236, 200, 200)):
                self.set_font(SANS, size=54)
                for y in (95, 215):
                    with self.rotation(30, x=105, y=y):
                        self.text(58, y, WATERMARK)
        self.set_xy(self.l_margin, self.t_margin)

    def footer(self) -> None:
        self.set_y(-18)
        self.set_font(SERIF, size=11)
        self.set_text_color(*INK)
        self.cell(0, 6, f"— {self.page_no()} —", align="C")

    # blocks ---------------------------------------------------------------------------------------

    def red_head(self) -> None:
        """The 红头: the office's name in red, the 文号, and the red rule beneath."""
        h = self.heading
        self.set_y(34)
        self.set_font(SANS, size=26)
        self.set_text_color(*RED)
        size = 26 if len(h.office) <= 14 else max(16, 26 * 14 // len(h.office))
        self.set_font_size(size)
        self.cell(0, 14, f"{h.office}", align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(6)
        self.set_font(SERIF, size=13)
        self.set_text_color(*INK)
        self.cell(0, 7, h.number, align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(*RED)
        self.set_line_width(0.8)
        y = self.get_y() + 2
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.set_line_width(0.2)
        self.set_draw_color(*INK)
        self.set_y(y + 8)

    def title_block(self) -> None:
        h = self.heading
        self.set_font(SANS, size=18)
        self.multi_cell(0, 10, h.title, align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(4)
        self.set_font(SERIF, size=13)
        if h.recipients:  # a letter's salutation is its own first paragraph
            self.multi_cell(0, 7, f"{h.recipients}：", new_x="LMARGIN", new_y="NEXT")
        if h.preliminary:
            note = "本通报依据初步结果（尚未发布，以最终发布结果为准）。"
        else:
            note = h.published_note or "本通报依据已发布的考核结果。"
        self.set_text_color(*GREY)
        self.set_font_size(11)
        self.multi_cell(0, 6, note, new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(*INK)
        self.ln(2)

    def section(self, text: str) -> None:
        if self.get_y() > self.h - 50:
            self.add_page()
        self.ln(3)
        self.set_font(SANS, size=14)
        self.cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
        self.set_font(SERIF, size=12)

    def paragraph(self, text: str, size: float = 12.5) -> None:
        """A body paragraph: first line indented two characters, lines broken by the Chinese rules (避头尾:
        no closing punctuation at a line's start, no opening bracket at its end)."""
        self.set_font(SERIF, size=size)
        width = self.w - self.l_margin - self.r_margin
        indent = self.get_string_width("国国")
        for i, line in enumerate(wrap(self, text, width, indent)):
            if self.get_y() + 7 > self.page_break_trigger:
                self.add_page()
            self.set_x(self.l_margin + (indent if i == 0 else 0))
            self.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")

    def signature(self) -> None:
        """落款: the office and the date, right-aligned, at the end."""
        if self.get_y() > self.h - 60:
            self.add_page()
        self.ln(10)
        self.set_font(SERIF, size=13)
        self.cell(0, 8, self.heading.office, align="R", new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 8, self.heading.date, align="R", new_x="LMARGIN", new_y="NEXT")

    def table(  # type: ignore[override]
        self,
        headers: list[str],
        widths: list[float],
        rows: list[list[str]],
        *,
        fills: list[tuple[int, int, int] | None] | None = None,
        size: float = 9.5,
        line: float = 6.0,
    ) -> None:
        """A ruled table with a repeated header row; cells are truncated to their width."""

        def head() -> None:
            self.set_font(SANS, size=size)
            self.set_fill_color(232, 232, 232)
            for text, w in zip(headers, widths, strict=True):
                self.cell(w, line + 1, fit(self, text, w - 1.0), border=1, align="C", fill=True)
            self.ln(line + 1)
            self.set_font(SERIF, size=size)

        head()
        for i, row in enumerate(rows):
            if self.get_y() + line > self.page_break_trigger:
                self.add_page()
                head()
            fill = fills[i] if fills else None
            if fill:
                self.set_fill_color(*fill)
            for j, (text, w) in enumerate(zip(row, widths, strict=True)):
                self.cell(
                    w, line, fit(self, text, w - 1.5), border=1, align="L" if j == 1 else "C", fill=bool(fill)
                )
            self.ln(line)


def fit(pdf: FPDF, text: str, width: float) -> str:
    """`text`, shortened with … until it fits `width` at the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


NO_START = set("，。、；：？！）》」』〕】”’%…·,.;:!?)")
NO_END = set("（《「『〔【“‘(")


def wrap(pdf: FPDF, text: str, width: float, first_indent: float = 0.0) -> list[str]:
    """Break `text` into lines of at most `width` at the current font, keeping 避头尾 punctuation and
    ASCII words (numbers, codes) whole."""
    tokens = re.findall(r"[A-Za-z0-9.%\-]+|.", text)
    lines: list[str] = []
    line, room = "", width - first_indent
    for tok in tokens:
        if line and pdf.get_string_width(line + tok) > room:
            if tok[0] in NO_START:  # pull the last character down with the punctuation
                carry, line = line[-1], line[:-1]
                tok = carry + tok
            while line and line[-1] in NO_END:
                tok, line = line[-1] + tok, line[:-1]
            lines.append(line)
            line, room = tok, width
        else:
            line += tok
    if line:
        lines.append(line)
    return lines
