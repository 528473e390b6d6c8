"""Charts drawn with the PDF's own vector operators (fast, no plotting library): the ranking bar chart of a
category, the 三色榜 as a coloured grid, and the 序时进度 pace curve of a lagging indicator."""

from __future__ import annotations

from services.documents.domain.layout import GREY, INK, SANS, SERIF, OfficePdf, fit
from services.documents.domain.model import BoardCell, Lagging, RankRow

GRADE_FILL = {
    "优秀": (196, 30, 58),
    "良好": (232, 120, 60),
    "一般": (120, 144, 176),
    "较差": (150, 150, 150),
}
BOARD_FILL = {"red": (222, 60, 60), "yellow": (246, 196, 60), "green": (70, 160, 90)}
LABELLED_BARS = 40  # categories up to this size get one labelled bar per unit; larger ones thin columns


def _room(pdf: OfficePdf, height: float) -> None:
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()


def ranking_chart(pdf: OfficePdf, category: str, rows: tuple[RankRow, ...]) -> None:
    """Total score per unit in rank order, bars coloured by grade, with the category named as caption."""
    if not rows:
        return
    width = pdf.w - pdf.l_margin - pdf.r_margin
    top_score = max(100.0, max(r.total for r in rows))
    caption = f"图：{category}综合得分排名"
    if len(rows) <= LABELLED_BARS:
        bar, gap, label_w = 4.2, 1.2, 34.0
        height = len(rows) * (bar + gap) + 14
        _room(pdf, height)
        x0, y = pdf.l_margin + label_w, pdf.get_y() + 2
        plot_w = width - label_w - 14
        pdf.set_font(SERIF, size=7.5)
        for r in rows:
            w = max(0.3, plot_w * max(r.total, 0.0) / top_score)
            pdf.set_fill_color(*GRADE_FILL.get(r.grade or "", (120, 144, 176)))
            pdf.rect(x0, y, w, bar, style="F")
            pdf.set_xy(pdf.l_margin, y - 0.6)
            pdf.cell(
                label_w - 1.5, bar + 1, fit(pdf, f"{r.rank or '-'} {r.unit_name}", label_w - 2), align="R"
            )
            pdf.set_xy(x0 + w + 0.8, y - 0.6)
            pdf.cell(12, bar + 1, f"{r.total:.2f}")
            y += bar + gap
        pdf.set_draw_color(*GREY)
        pdf.line(x0, pdf.get_y() + 2 - 1, x0, y)
        pdf.set_draw_color(*INK)
        pdf.set_y(y + 1)
    else:
        height = 62
        _room(pdf, height + 10)
        x0, y0 = pdf.l_margin + 8, pdf.get_y() + 2
        plot_w, plot_h = width - 10, height - 10
        step = plot_w / len(rows)
        pdf.set_draw_color(*GREY)
        pdf.set_font(SERIF, size=7)
        for tick in (0, 25, 50, 75, 100):
            ty = y0 + plot_h - plot_h * tick / top_score
            pdf.line(x0, ty, x0 + plot_w, ty)
            pdf.set_xy(x0 - 8, ty - 2)
            pdf.cell(7, 4, str(tick), align="R")
        for i, r in enumerate(rows):
            h = plot_h * max(r.total, 0.0) / top_score
            pdf.set_fill_color(*GRADE_FILL.get(r.grade or "", (120, 144, 176)))
            pdf.rect(x0 + i * step, y0 + plot_h - h, max(step * 0.8, 0.15), h, style="F")
        pdf.set_xy(x0, y0 + plot_h + 0.5)
        pdf.cell(plot_w / 2, 4, "第1名")
        pdf.cell(plot_w / 2, 4, f"第{len(rows)}名", align="R")
        pdf.set_draw_color(*INK)
        pdf.set_y(y0 + height - 4)
    _legend(pdf, caption, [(g, c) for g, c in GRADE_FILL.items()])


def board_grid(pdf: OfficePdf, cells: tuple[BoardCell, ...], columns: int = 6) -> None:
    """三色榜: one coloured cell per unit (red first, as the board is ordered), names inside."""
    if not cells:
        return
    width = pdf.w - pdf.l_margin - pdf.r_margin
    cw, ch = width / columns, 7.0
    pdf.set_font(SERIF, size=8)
    pdf.set_draw_color(255, 255, 255)
    for start in range(0, len(cells), columns):
        _room(pdf, ch)
        y = pdf.get_y()
        for j, cell in enumerate(cells[start : start + columns]):
            fill = BOARD_FILL.get(cell.colour, (200, 200, 200))
            pdf.set_fill_color(*fill)
            pdf.set_text_color(*((255, 255, 255) if cell.colour != "yellow" else INK))
            pdf.set_xy(pdf.l_margin + j * cw, y)
            pdf.cell(cw, ch, fit(pdf, cell.unit_name, cw - 1.5), border=1, align="C", fill=True)
        pdf.set_y(y + ch)
    pdf.set_text_color(*INK)
    pdf.set_draw_color(*INK)
    _legend(
        pdf,
        "图：三色榜（红：滞后严重，黄：滞后，绿：符合序时进度）",
        [("红", BOARD_FILL["red"]), ("黄", BOARD_FILL["yellow"]), ("绿", BOARD_FILL["green"])],
    )


def pace_curve(pdf: OfficePdf, lag: Lagging) -> None:
    """Expected (序时进度) against actual completion by month, as shares of the annual target."""
    points = lag.curve
    if not points:
        return
    width = pdf.w - pdf.l_margin - pdf.r_margin
    height = 58
    _room(pdf, height + 12)
    x0, y0 = pdf.l_margin + 12, pdf.get_y() + 3
    plot_w, plot_h = width - 20, height - 14
    peak = max(*(p.expected or 0.0 for p in points), *(p.actual or 0.0 for p in points), 0.01)
    top = min(1.2, max(0.1, round(peak * 1.25 + 0.049, 1)))
    pdf.set_font(SERIF, size=7.5)
    pdf.set_draw_color(*GREY)
    for k in range(0, 5):
        share = top * k / 4
        ty = y0 + plot_h - plot_h * share / top
        pdf.line(x0, ty, x0 + plot_w, ty)
        pdf.set_xy(x0 - 12, ty - 2)
        pdf.cell(11, 4, f"{share:.0%}", align="R")
    step = plot_w / max(1, len(points) - 1) if len(points) > 1 else plot_w
    xs = [x0 + i * step for i in range(len(points))]
    for x, p in zip(xs, points, strict=True):
        pdf.set_xy(x - 6, y0 + plot_h + 0.5)
        pdf.cell(12, 4, p.label, align="C")

    def series(values: list[float | None], colour: tuple[int, int, int], dashed: bool) -> None:
        pdf.set_draw_color(*colour)
        pdf.set_fill_color(*colour)
        pdf.set_line_width(0.6)
        if dashed:
            pdf.set_dash_pattern(dash=1.6, gap=1.0)
        pts = [(x, y0 + plot_h - plot_h * v / top) for x, v in zip(xs, values, strict=True) if v is not None]
        if len(pts) > 1:
            pdf.polyline(pts)
        for x, y in pts:
            pdf.circle(x, y, 0.9, style="F")
        pdf.set_dash_pattern()
        pdf.set_line_width(0.2)

    series([p.expected for p in points], (90, 90, 90), True)
    series([p.actual for p in points], (200, 16, 46), False)
    pdf.set_draw_color(*INK)
    pdf.set_y(y0 + height - 8)
    _legend(
        pdf,
        f"图：{lag.name}序时进度曲线",
        [("应完成（序时进度）", (90, 90, 90)), ("实际完成", (200, 16, 46))],
    )


def _legend(pdf: OfficePdf, caption: str, keys: list[tuple[str, tuple[int, int, int]]]) -> None:
    pdf.set_font(SANS, size=9)
    y = pdf.get_y() + 1
    pdf.set_xy(pdf.l_margin, y)
    pdf.cell(pdf.get_string_width(caption) + 4, 5, caption)
    pdf.set_font(SERIF, size=8)
    x = pdf.get_x() + 2
    for name, colour in keys:
        pdf.set_fill_color(*colour)
        pdf.rect(x, y + 1.2, 3, 2.6, style="F")
        pdf.set_xy(x + 3.5, y)
        pdf.cell(pdf.get_string_width(name) + 3, 5, name)
        x = pdf.get_x() + 1
    pdf.set_y(y + 8)
