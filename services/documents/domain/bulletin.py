"""考核结果通报 rendered: per category the ranking with grades and level-1 scores, grade counts against the
quota, the 三色榜, the biggest risers and fallers against the previous period, and the charts."""

from __future__ import annotations

from services.documents.domain import charts
from services.documents.domain.layout import SANS, OfficePdf
from services.documents.domain.model import COLOUR_ZH, GRADES, Bulletin, Category, Mover, Pdf, RankRow

CN_NUM = "一二三四五六七八九十"
MAX_LEVEL1 = 5  # level-1 columns that fit the page beside 名次, 单位, 总分, 等次, 三色


def render_bulletin(b: Bulletin) -> Pdf:
    """The bulletin's PDF bytes (deterministic for the same data)."""
    pdf = OfficePdf(b.heading)
    pdf.add_page()
    pdf.red_head()
    pdf.title_block()
    units = sum(len(c.rows) for c in b.categories)
    pdf.paragraph(
        f"根据《{b.scheme_name}》，现将{b.period_label}考核结果通报如下。本期共考核{units}个单位，"
        f"分{len(b.categories)}类进行排名。"
    )
    for i, cat in enumerate(b.categories):
        _category(pdf, f"{_cn(i + 1)}、{cat.name}", cat, b.previous_label)
    pdf.section(f"{_cn(len(b.categories) + 1)}、工作要求")
    pdf.paragraph(
        "各单位要对照考核结果认真查找差距，对序时进度滞后的指标逐项制定整改措施，确保年度目标任务全面完成。"
        "排名靠后和列入红色榜单的单位，要在通报印发后10个工作日内向考核办报送整改情况。"
    )
    pdf.signature()
    data = bytes(pdf.output())
    return Pdf(data, pdf.pages_count)


def _category(pdf: OfficePdf, title: str, cat: Category, previous_label: str | None) -> None:
    pdf.section(title)
    g = cat.grades
    if g is not None:
        counts = "，".join(f"{k}{g.counts.get(k, 0)}个" for k in GRADES)
        quota = f"（优秀等次名额{g.quota}个）" if g.quota is not None else ""
        pdf.paragraph(f"本类共{g.of}个单位参加考核，其中{counts}{quota}。")
    pdf.set_font(SANS, size=12)
    pdf.cell(0, 8, "（一）排名与等次", new_x="LMARGIN", new_y="NEXT")
    _ranking_table(pdf, cat.rows)
    pdf.ln(2)
    charts.ranking_chart(pdf, cat.name, cat.rows)
    if cat.board:
        pdf.set_font(SANS, size=12)
        pdf.cell(0, 8, "（二）三色榜", new_x="LMARGIN", new_y="NEXT")
        reds = sum(1 for c in cat.board if c.colour == "red")
        yellows = sum(1 for c in cat.board if c.colour == "yellow")
        pdf.paragraph(f"红色{reds}个、黄色{yellows}个、绿色{len(cat.board) - reds - yellows}个。")
        charts.board_grid(pdf, cat.board)
    if previous_label and (cat.risers or cat.fallers):
        pdf.set_font(SANS, size=12)
        pdf.cell(0, 8, f"（三）与{previous_label}相比名次变化较大的单位", new_x="LMARGIN", new_y="NEXT")
        pdf.paragraph("进位较多：" + _movers(cat.risers) + "。")
        pdf.paragraph("退位较多：" + _movers(cat.fallers) + "。")


def _ranking_table(pdf: OfficePdf, rows: tuple[RankRow, ...]) -> None:
    names = [s.name for s in rows[0].level1][:MAX_LEVEL1] if rows else []
    width = pdf.w - pdf.l_margin - pdf.r_margin
    fixed = [11.0, 0.0, 15.0, 12.0, 10.0]
    l1_w = 15.0 if names else 0.0
    unit_w = width - sum(fixed) - l1_w * len(names)
    widths = [fixed[0], unit_w, fixed[2], *([l1_w] * len(names)), fixed[3], fixed[4]]
    headers = ["名次", "单位", "总分", *names, "等次", "三色"]
    table = []
    for r in rows:
        scores = {s.name: s.score for s in r.level1}
        table.append(
            [
                str(r.rank) if r.rank is not None else "—",
                r.unit_name,
                f"{r.total:.2f}",
                *[f"{scores[n]:.1f}" if n in scores else "—" for n in names],
                r.grade or "—",
                COLOUR_ZH.get(r.colour or "", "—"),
            ]
        )
    pdf.table(headers, widths, table)


def _movers(ms: tuple[Mover, ...]) -> str:
    if not ms:
        return "无"
    return "、".join(
        f"{m.unit_name}（第{m.previous_rank}名→第{m.rank}名，{_verb(m.change)}{abs(m.change)}位）" for m in ms
    )


def _verb(change: int) -> str:
    return "上升" if change > 0 else "下降"


def _cn(n: int) -> str:
    if n <= 10:
        return CN_NUM[n - 1]
    return ("十" if n < 20 else CN_NUM[n // 10 - 1] + "十") + (CN_NUM[n % 10 - 1] if n % 10 else "")


def movers(
    current: tuple[RankRow, ...], previous: dict[str, int], n: int = 3
) -> tuple[tuple[Mover, ...], tuple[Mover, ...]]:
    """The `n` biggest risers and fallers against the previous period's ranks (units ranked in both)."""
    moved = [
        Mover(r.unit_name, r.rank, previous[r.unit_id])
        for r in current
        if r.rank is not None and r.unit_id in previous and previous[r.unit_id] != r.rank
    ]
    risers = sorted((m for m in moved if m.change > 0), key=lambda m: (-m.change, m.rank))[:n]
    fallers = sorted((m for m in moved if m.change < 0), key=lambda m: (m.change, m.rank))[:n]
    return tuple(risers), tuple(fallers)
