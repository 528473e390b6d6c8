"""提示函: a letter from the office to a unit's head, its text from a template the office edits.

Templates use `${name}` placeholders (Python's string.Template): the names in `FIELDS` only, so a typo is
refused when the template is saved rather than printed. Paragraphs are separated by blank lines.
"""

from __future__ import annotations

from string import Template

from services.documents.domain.layout import OfficePdf
from services.documents.domain.model import Heading, Pdf

FIELDS: dict[str, str] = {
    "unit_name": "被考核单位名称",
    "period": "考核期间 (2026年第1季度)",
    "total": "综合得分",
    "rank": "本类排名",
    "of": "本类单位数",
    "lagging": "滞后指标及滞后幅度 (一句话)",
    "office": "发文机关",
    "date": "成文日期",
}
DEFAULT_TEMPLATE = (
    "${unit_name}主要负责同志：\n\n"
    "${period}考核结果显示，你单位综合得分${total}分，在本类${of}个单位中排名第${rank}名。${lagging}\n\n"
    "请你单位主要负责同志高度重视，专题研究滞后指标，压实责任、倒排工期，确保年度目标任务按期完成。"
    "特此提示。"
)


def problems(template: str) -> list[str]:
    """What is wrong with a template: placeholders not in FIELDS, or `$` not forming one; [] when fine."""
    t = Template(template)
    if not t.is_valid():
        return ["a `$` that is not a placeholder: write `$$` for a dollar sign, `${name}` for a field"]
    unknown = sorted(set(t.get_identifiers()) - set(FIELDS))
    return [f"unknown placeholder ${{{n}}}; one of: {', '.join(FIELDS)}" for n in unknown]


def fill(template: str, values: dict[str, str]) -> list[str]:
    """The letter's paragraphs: the template with every field filled in."""
    text = Template(template).substitute({k: values.get(k, "") for k in FIELDS})
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def render_letter(heading: Heading, paragraphs: list[str]) -> Pdf:
    pdf = OfficePdf(heading)
    pdf.add_page()
    pdf.red_head()
    pdf.title_block()
    for i, p in enumerate(paragraphs):
        if i == 0 and p.endswith("："):  # the salutation stands flush left
            pdf.set_x(pdf.l_margin)
            pdf.cell(0, 8, p, new_x="LMARGIN", new_y="NEXT")
            continue
        pdf.paragraph(p)
    pdf.signature()
    return Pdf(bytes(pdf.output()), pdf.pages_count)
