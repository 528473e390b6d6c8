"""DataLoaders, one set per request: each batches a tick's lookups into one NATS request per service."""

from __future__ import annotations

from typing import Any

from strawberry.dataloader import DataLoader

from kaohe.identity import Caller
from kaohe.rpc import RpcClient


class Loaders:
    def __init__(self, client: RpcClient, caller: Caller) -> None:
        self.client = client
        self.caller = caller
        self.unit_by_id = DataLoader(self._units)
        self.score_by_unit = DataLoader(self._scores)
        self.evidence_by_unit = DataLoader(self._evidence)
        self.signals_by_unit = DataLoader(self._signals)
        self.records_by_unit = DataLoader(self._records)

    async def _units(self, ids: list[str]) -> list[dict[str, Any] | None]:
        return await self.client.call("indicators", "units_by_ids", {"ids": ids}, self.caller)  # type: ignore[no-any-return]

    async def _by_unit(self, service: str, method: str, ids: list[str], empty: Any) -> list[Any]:
        res = await self.client.call(service, method, {"ids": ids}, self.caller)
        return [res.get(i, empty) for i in ids]

    async def _scores(self, keys: list[tuple[str, str | None]]) -> list[dict[str, Any] | None]:
        by_period: dict[str | None, list[str]] = {}
        for unit_id, period in keys:
            by_period.setdefault(period, []).append(unit_id)
        found: dict[tuple[str, str | None], Any] = {}
        for period, ids in by_period.items():  # one request per distinct period argument in the query
            res = await self.client.call(
                "scoring", "scores_by_units", {"ids": ids, "period": period}, self.caller
            )
            for i in ids:
                found[(i, period)] = res.get(i)
        return [found[k] for k in keys]

    async def _evidence(self, ids: list[str]) -> list[list[dict[str, Any]]]:
        return await self._by_unit("indicators", "evidence_by_units", ids, [])

    async def _signals(self, ids: list[str]) -> list[list[dict[str, Any]]]:
        return await self._by_unit("supervision", "signals_by_units", ids, [])

    async def _records(self, ids: list[str]) -> list[list[dict[str, Any]]]:
        return await self._by_unit("rewards", "records_by_units", ids, [])
