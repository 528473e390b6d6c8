"""督办通报: a month's supervision (督查督办) by unit: items, lead items, closed, overdue, cards."""

from __future__ import annotations

from dataclasses import dataclass

from services.documents.domain.layout import SANS, OfficePdf
from services.documents.domain.model import Heading, Pdf


@dataclass(frozen=True)
class UnitLine:
    unit_name: str
    items: int
    lead_items: int
    closed: int
    overdue: int
    on_time_rate: float | None
    yellow_cards: int
    red_cards: int


@dataclass(frozen=True)
class SupervisionBulletin:
    heading: Heading
    scope_name: str  # the unit whose subtree is reported
    period_label: str
    lines: tuple[UnitLine, ...]


def render_supervision(b: SupervisionBulletin) -> Pdf:
    pdf = OfficePdf(b.heading)
    pdf.add_page()
    pdf.red_head()
    pdf.title_block()
    lines = b.lines
    items = sum(x.lead_items for x in lines)
    closed = sum(x.closed for x in lines)
    overdue = sum(x.overdue for x in lines)
    yellow = sum(x.yellow_cards for x in lines)
    red = sum(x.red_cards for x in lines)
    pdf.paragraph(
        f"现将{b.period_label}{b.scope_name}督查督办工作情况通报如下。本期在办督办事项{items}项（按牵头单位计），"
        f"办结{closed}项，超期{overdue}项；亮黄牌{yellow}张、红牌{red}张。"
    )
    pdf.section("一、分单位办理情况")
    if lines:
        width = pdf.w - pdf.l_margin - pdf.r_margin
        fixed = [10.0, 0.0, 14.0, 14.0, 14.0, 14.0, 20.0, 14.0, 14.0]
        fixed[1] = width - sum(fixed)
        rows = [
            [
                str(i + 1),
                x.unit_name,
                str(x.items),
                str(x.lead_items),
                str(x.closed),
                str(x.overdue),
                f"{x.on_time_rate:.0%}" if x.on_time_rate is not None else "—",
                str(x.yellow_cards),
                str(x.red_cards),
            ]
            for i, x in enumerate(lines)
        ]
        headers = ["序号", "单位", "事项", "牵头", "办结", "超期", "按时办结率", "黄牌", "红牌"]
        pdf.table(headers, fixed, rows, size=10, line=7)
    else:
        pdf.paragraph("本期无督办事项。")
    behind = sorted((x for x in lines if x.overdue or x.red_cards), key=lambda x: (-x.red_cards, -x.overdue))[
        :5
    ]
    pdf.section("二、需要重点关注的单位")
    if behind:
        names = "、".join(f"{x.unit_name}（超期{x.overdue}项，红牌{x.red_cards}张）" for x in behind)
        pdf.paragraph(f"{names}。请上述单位主要负责同志亲自督促，限期办结，并书面说明超期原因。")
    else:
        pdf.paragraph("本期各单位均按时限办理，无超期事项。")
    pdf.set_font(SANS, size=12)
    pdf.section("三、工作要求")
    pdf.paragraph(
        "各单位要严格落实首接负责、限时办结制度，对照督办时限倒排工期，确保件件有着落、事事有回音。"
    )
    pdf.signature()
    return Pdf(bytes(pdf.output()), pdf.pages_count)
