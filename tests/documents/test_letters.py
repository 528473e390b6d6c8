"""提示函 from the office's own template: checked when saved, filled with the unit's standing when issued."""

from __future__ import annotations

import pytest

from kaohe.errors import KaoheError
from tests.documents.conftest import OFFICE, office, reporter
from tests.documents.test_issue import download, text_of
from tests.support.gateway import Scored


async def test_office_template_is_checked_and_used_for_the_letter(call: object, world: Scored) -> None:
    code = {"office_code": "A考办函"}
    default = await call("letter_template_get", code, office())  # type: ignore[operator]
    assert default["custom"] is False and "${unit_name}" in default["body"]
    with pytest.raises(KaoheError) as e:  # a typo in a placeholder is refused, naming the field
        await call("letter_template_set", {**code, "body": "${unit_nmae}请注意。"}, office())  # type: ignore[operator]
    assert e.value.code == "bad_template" and e.value.field == "body" and "unit_nmae" in e.value.message
    with pytest.raises(KaoheError) as e:
        await call("letter_template_set", {**code, "body": "请注意"}, reporter("/"))  # type: ignore[operator]
    assert e.value.code == "forbidden_role"
    body = (
        "${unit_name}负责同志：\n\n你单位${period}得分${total}分，排名第${rank}名（共${of}个）。${lagging}"
        "\n\n请抓紧整改。"
    )
    saved = await call("letter_template_set", {**code, "body": body}, office())  # type: ignore[operator]
    assert saved["custom"] is True and saved["body"] == body
    a1 = world.tree["A1"]
    doc = await call(  # type: ignore[operator]
        "letter_issue",
        {"scheme_id": world.city.scheme_id, "period": world.period, "unit_id": a1["id"], **OFFICE, **code},
        office(),
    )
    assert doc["kind"] == "letter" and doc["number"].startswith("A考办函〔")
    score = (
        await call(  # type: ignore[operator]
            "scores_by_units", {"ids": [a1["id"]], "period": world.period}, office(), service="scoring"
        )
    )[a1["id"]]
    text = text_of(await download(doc))
    assert "单位A1负责同志：" in text and "请抓紧整改。" in text
    assert f"得分{score['total']:.2f}分，排名第{score['rank']}名（共{score['of']}个）" in text
    assert "${" not in text
