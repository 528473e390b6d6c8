"""Pure rendering rules of the documents service: movers, line breaking, templates, the rendered text."""

from __future__ import annotations

import re

import pypdfium2
from hypothesis import given
from hypothesis import strategies as st

from bench.documents import synthetic_bulletin, synthetic_slip
from services.documents.domain import bulletin, letter, slips
from services.documents.domain.layout import NO_END, NO_START, SERIF, OfficePdf, wrap
from services.documents.domain.model import Heading, RankRow

HEADING = Heading("某市考核办", "某考办〔2026〕1号", "标题", "各单位", "2026年4月1日", preliminary=False)


def text(data: bytes) -> str:
    doc = pypdfium2.PdfDocument(data)
    try:
        return re.sub(r"\s+", "", "".join(p.get_textpage().get_text_range() for p in doc))
    finally:
        doc.close()


def test_movers_are_the_biggest_changes_among_units_ranked_in_both_periods() -> None:
    rows = tuple(RankRow(r, f"u{r}", f"单位{r}", 100.0 - r, None, None) for r in range(1, 7))
    previous = {"u1": 5, "u2": 2, "u3": 1, "u4": 6, "u5": 3}  # u6 is new: never a mover
    risers, fallers = bulletin.movers(rows, previous, n=2)
    assert [(m.unit_name, m.change) for m in risers] == [("单位1", 4), ("单位4", 2)]
    assert [(m.unit_name, m.change) for m in fallers] == [
        ("单位3", -2),
        ("单位5", -2),
    ]  # ties: better rank first


PDF = OfficePdf(HEADING)  # one document for the measuring (loading the fonts takes a while)
PDF.add_page()


@given(st.text(alphabet="考核结果通报，。、；：（）《》“”0123456789AB", min_size=1, max_size=200))
def test_wrapped_lines_keep_the_text_and_the_punctuation_rules(s: str) -> None:
    pdf = PDF
    pdf.set_font(SERIF, size=12)
    lines = wrap(pdf, s, 60.0, 8.0)
    assert "".join(lines) == s
    for line in lines[1:]:
        assert line and (line[0] not in NO_START or len(line) == 1 or all(c in NO_START for c in line[:2]))
    for line in lines[:-1]:
        assert line == "" or line[-1] not in NO_END or all(c in NO_END for c in line)


def test_template_problems_name_unknown_placeholders() -> None:
    assert letter.problems(letter.DEFAULT_TEMPLATE) == []
    assert "unit_nmae" in letter.problems("${unit_nmae}")[0]
    assert letter.problems("100$") != []
    assert letter.fill("${unit_name}：\n\n得分${total}分。", {"unit_name": "城区", "total": "81.50"}) == [
        "城区：",
        "得分81.50分。",
    ]


def test_a_large_category_gets_the_column_chart_and_every_unit_in_the_table() -> None:
    b = synthetic_bulletin(400, 2)
    pdf = bulletin.render_bulletin(b)
    t = text(pdf.data)
    assert t.count("综合得分排名") == 2 and "第1名" in t and "第200名" in t
    for cat in b.categories:
        names = [r.unit_name for r in cat.rows]
        assert all(n in t for n in names)
    assert "初步结果" not in t and "本通报依据已发布的考核结果" in t


def test_slip_text_has_the_lagging_table_and_curves() -> None:
    t = text(slips.render_slip(synthetic_slip()).data)
    assert "序时进度预警单" in t and "地区生产总值" in t and "13.0%" in t and "红色预警" in t
    assert t.count("序时进度曲线") == 2 and "初步结果" in t
