"""督考合一 end to end: a card issued by supervision moves the unit's score in scoring, with no manual step
(supervision's outbox → JetStream → scoring's `inputs` consumer → the scorer)."""

from __future__ import annotations

import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from tests.conftest import Infra, Namespace, eventually
from tests.supervision.harness import SYSTEM, at, item_params
from tests.supervision.harness import running as supervision
from tests.support.scoring import fill, month_total, running, totals


async def test_a_card_moves_the_units_score_in_scoring(
    infra: Infra, database_url: str, ns: Namespace, nc: NATS, js: JetStreamContext
) -> None:
    async with (
        running(infra, database_url, ns, nc, js) as sc,
        supervision(infra, database_url, ns, nc, js) as sup,
    ):
        await sup.seed_units()
        sid = await sc.scheme()
        await sc.call("config_set", {"scheme_id": sid, "config": {"supervision_weight": 0.1}})
        await fill(sc, sid, "140502", "2026-06", 90, 60, 1, "较好")
        before = month_total(90, 60, 1, 0.8, s=0.1, sup=100.0, period="2026-06")

        async def scored(value: float) -> bool:
            got = await totals(sc, ["140502"], "2026-06")
            return got["140502"] == pytest.approx(value)

        await eventually(lambda: scored(before), what="the month scored without supervision results")
        p = item_params(
            at=at(2026, 6, 1),
            lead={"unit_id": "140501", "task": "牵头", "deadline": "2026-06-30"},
            cooperating=[{"unit_id": "140502", "task": "配合", "deadline": "2026-06-15"}],
            deadline="2026-06-30",
        )
        it = await sup.call("item_create", p, SYSTEM)
        lead = {"item_id": it["id"], "unit_id": "140501"}
        await sup.call("item_accept", lead | {"expected_version": 1, "at": at(2026, 6, 1, 10)}, SYSTEM)
        on_time = {
            "expected_version": 2,
            "reason": "推进中",
            "at": at(2026, 6, 12),
        }  # the lead reports in time
        await sup.call("item_feedback", lead | on_time, SYSTEM)
        got = await sup.call("sweep_run", {"as_of": at(2026, 6, 17, 10)}, SYSTEM)
        assert got["cards"] == 1  # yellow to 140502, the late cooperating unit
        (score,) = await sup.call("scores_list", {"unit_ids": ["140502"], "period": "2026-06"}, SYSTEM)
        assert score["score"] == 97.5
        after = month_total(90, 60, 1, 0.8, s=0.1, sup=97.5, period="2026-06")
        await eventually(lambda: scored(after), what="the card in scoring's total")
        assert after < before
