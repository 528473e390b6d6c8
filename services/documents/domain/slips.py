"""预警单 and 提醒单 of one unit: its lagging indicators, expected against actual, and the pace curve."""

from __future__ import annotations

from services.documents.domain import charts
from services.documents.domain.layout import SANS, OfficePdf
from services.documents.domain.model import Pdf, Slip

KIND_ZH = {"warning": "预警单", "reminder": "提醒单"}


def render_slip(s: Slip) -> Pdf:
    pdf = OfficePdf(s.heading)
    pdf.add_page()
    pdf.red_head()
    pdf.title_block()
    place = f"，在本类排名第{s.rank}名（共{s.of}个单位）" if s.rank and s.of else ""
    total = f"综合得分{s.total:.2f}分{place}" if s.total is not None else "尚无综合得分"
    if s.lagging:
        worst = max(s.lagging, key=lambda x: x.lag)
        pdf.paragraph(
            f"经{s.period_label}序时进度监测，你单位{total}；有{len(s.lagging)}项指标滞后于序时进度，"
            f"其中“{worst.name}”滞后{worst.lag:.1%}（{worst.level_zh}）。具体如下："
        )
    else:
        pdf.paragraph(f"经{s.period_label}序时进度监测，你单位{total}，各项指标均符合序时进度。")
    if s.lagging:
        width = pdf.w - pdf.l_margin - pdf.r_margin
        widths = [12.0, width - 12 - 26 * 3 - 22, 26.0, 26.0, 26.0, 22.0]
        rows = [
            [str(i + 1), x.name, f"{x.expected:.1%}", f"{x.actual:.1%}", f"{x.lag:.1%}", x.level_zh]
            for i, x in enumerate(s.lagging)
        ]
        pdf.table(["序号", "指标", "应完成", "实际完成", "滞后", "预警等级"], widths, rows, size=10.5, line=7)
        for x in s.lagging:
            if x.curve:
                pdf.ln(2)
                if pdf.get_y() + 80 > pdf.page_break_trigger:
                    pdf.add_page()
                pdf.set_font(SANS, size=12)
                pdf.cell(0, 8, f"{x.name}（{x.code}）", new_x="LMARGIN", new_y="NEXT")
                charts.pace_curve(pdf, x)
    pdf.section("请你单位落实以下要求")
    pdf.paragraph(s.request or _default_request(s.kind))
    pdf.signature()
    data = bytes(pdf.output())
    return Pdf(data, pdf.pages_count)


def _default_request(kind: str) -> str:
    if kind == "warning":
        return (
            "请你单位高度重视，主要负责同志亲自研究，逐项分析滞后原因，制定赶超措施，"
            "于收到本预警单之日起5个工作日内将整改情况书面报送考核办。"
        )
    return "请你单位关注上述指标进展，加快推进，确保按序时进度完成年度目标任务。"
