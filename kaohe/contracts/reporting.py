"""报送要求 (reporting rule) of a scheme: when a month's values are due and when units are reminded.

Part of `Scheme` (field `reporting`, with defaults, so a scheme saved before it existed stays valid) and so
of `SchemePublished`: the notices service reads each published scheme's own rule for its 填报截止提醒.
Counting is in working days on the versioned calendar (`kaohe.workdays`): 调休 Saturdays count, holidays
do not.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Reporting(BaseModel):  # 报送要求
    """报送时限: a month's values are due on the `due_workdays`-th working day after the month ends (the
    month's last day not counted); units that have not handed in are reminded `remind_workdays` working
    days before that day (0: on the day itself)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    due_workdays: int = Field(5, ge=1, le=20, description="报送时限：月度数据于次月第 N 个工作日前报送")
    remind_workdays: int = Field(2, ge=0, le=20, description="提前 N 个工作日提醒未报送单位")
