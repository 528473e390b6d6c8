"""Explanations (说明) of proposal lines: the rule, its basis, the inputs and how the amount came about."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from services.rewards.domain.money import yuan


def _yuan(fen: Any) -> str:
    return f"{yuan(int(fen))}元" if fen is not None else "—"


def _grade(g: Any) -> str:
    return g if g else "未评定"


def _rank(i: Mapping[str, Any]) -> str:
    if i.get("rank") and i.get("of"):
        return f"，{i.get('category') or '本类'}第{i['rank']}名/共{i['of']}名"
    return ""


def explain(line: Mapping[str, Any]) -> list[str]:
    """Chinese sentences for one stored line (kind, consequence, rule_id, basis, amount_fen, inputs)."""
    i: Mapping[str, Any] = line["inputs"]
    kind, what, rule = line["kind"], line["consequence"], line["rule_id"]
    out = [f"依据：{line['basis']}（规则 {rule}）"]
    amount = line.get("amount_fen")
    if kind == "pool":
        out.append(f"单位考核等次：{_grade(i.get('grade'))}{_rank(i)}")
        base_from = "核定总额" if i.get("base_from") == "given" else "在册人员月绩效基数合计×期间月数"
        out.append(
            f"奖励性绩效总额 = 基数 {_yuan(i.get('base_fen'))}（{base_from}）"
            f"× 考核系数 {i.get('coefficient')}"
            f"（单位类型 {i.get('unit_kind') or '未设'}）× 等次系数 {i.get('unit_factor')}"
            + (f"（{i['tier']}）" if i.get("tier") else "")
            + f" = {_yuan(amount)}"
        )
    elif kind == "withheld":
        out.append(f"暂扣比例 {_pct(i.get('share'))}：暂扣 {_yuan(amount)}")
    elif kind == "released":
        out.append(
            f"单位等次 {_grade(i.get('grade'))} 返还暂扣的 {_pct(i.get('release_share'))}："
            f"返还 {_yuan(amount)}"
        )
    elif kind == "zeroed":
        out.append(f"单位为本类末位{_rank(i)}：末位零绩效，总额 {_yuan(amount)} 不予发放")
    elif kind == "pay":
        out.append(
            f"个人等次 {_grade(i.get('grade'))}（系数 {i.get('factor')}），{i.get('post')}，"
            f"职级 {i.get('rank')}；"
            f"所在单位等次 {_grade(i.get('unit_grade'))}"
        )
        if i.get("zeroed"):
            out.append("所在单位末位零绩效：本期不发放")
        else:
            out.append(
                f"按 基数 {_yuan(i.get('base_fen'))} × 个人系数 "
                f"在单位可发总额 {_yuan(i.get('unit_paid_fen'))}"
                f" 中按比例分配（最大余数法，精确到分）：{_yuan(amount)}"
            )
        if line.get("computed_fen") is not None and line.get("computed_fen") != amount:
            out.append(f"审核调整：规则计算 {_yuan(line['computed_fen'])}，调整为 {_yuan(amount)}")
    elif kind == "quota":
        out.append(
            f"单位等次 {_grade(i.get('grade'))}：在册 {i.get('staff')} 人，"
            f"{what}比例 {_pct(i.get('share'))}，"
            f"名额 {i.get('quota')} 人，已评 {i.get('rated')} 人"
        )
    elif kind in ("honour", "cadre", "streak"):
        who = f"{i['post']}：" if i.get("post") else ""
        out.append(f"{who}单位考核等次 {_grade(i.get('grade'))}{_rank(i)}")
        if i.get("person_grade"):
            out.append(f"个人等次 {i['person_grade']}")
        run = i.get("consecutive")
        if isinstance(run, list) and len(run) > 1:
            seq = "、".join(f"{r.get('period')} {_grade(r.get('grade'))}" for r in run)
            out.append(f"连续 {len(run)} 期：{seq}")
        out.append(f"拟：{what}")
    if line.get("dropped"):
        out.append("审核中已撤销此项")
    return out


def _pct(share: Any) -> str:
    if share is None:
        return "—"
    return f"{(Decimal(str(share)) * 100).normalize():f}%"
