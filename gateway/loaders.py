"""DataLoaders, one set per request: each batches a tick's lookups into one NATS request per method."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

from kaohe.identity import Caller

if TYPE_CHECKING:
    from gateway.upstream import Upstream


class _ByIds(DataLoader[str, Any]):
    """Loads `{id: value}` (or a list in input order) from one RPC taking `ids`."""

    service = ""
    method = ""
    empty: Any = None

    def __init__(self, rpc: Upstream, caller: Caller, **extra: Any) -> None:
        super().__init__(load_fn=self._load)
        self.rpc, self.caller, self.extra = rpc, caller, extra

    async def _load(self, ids: list[str]) -> list[Any]:
        res = await self.rpc.call(self.service, self.method, {"ids": list(ids), **self.extra}, self.caller)
        if isinstance(res, list):
            return res
        return [res.get(i, self.empty) if res.get(i) is not None else self.empty for i in ids]


class UnitByIdLoader(_ByIds):
    service, method = "indicators", "units_by_ids"


class EvidenceByUnitLoader(_ByIds):
    service, method, empty = "indicators", "evidence_by_units", []


class SignalsByUnitLoader(_ByIds):
    service, method, empty = "supervision", "signals_by_units", []


class RecordsByUnitLoader(_ByIds):
    service, method, empty = "rewards", "ledger_by_units", []  # the newest 20 entries of each unit


class ScoreByUnitLoader(DataLoader[tuple[str, str | None], Any]):
    """Scores keyed by (unit, period); one request per distinct period argument in the tick."""

    def __init__(self, rpc: Upstream, caller: Caller) -> None:
        super().__init__(load_fn=self._load)
        self.rpc, self.caller = rpc, caller

    async def _load(self, keys: list[tuple[str, str | None]]) -> list[Any]:
        by_period: dict[str | None, list[str]] = {}
        for unit_id, period in keys:
            by_period.setdefault(period, []).append(unit_id)
        found: dict[tuple[str, str | None], Any] = {}
        for period, ids in by_period.items():
            res = await self.rpc.call(
                "scoring", "scores_by_units", {"ids": ids, "period": period}, self.caller
            )
            for i in ids:
                found[(i, period)] = res.get(i)
        return [found[k] for k in keys]


class Loaders:
    """The request's loaders; attribute names follow the `<entity>_by_<key>` convention."""

    def __init__(self, rpc: Upstream, caller: Caller) -> None:
        self.unit_by_id = UnitByIdLoader(rpc, caller)
        self.score_by_unit = ScoreByUnitLoader(rpc, caller)
        self.evidence_by_unit = EvidenceByUnitLoader(rpc, caller)
        self.signals_by_unit = SignalsByUnitLoader(rpc, caller)
        self.records_by_unit = RecordsByUnitLoader(rpc, caller)
        self._as_of: dict[str, UnitByIdLoader] = {}

    def unit_as_of(self, as_of: str | None) -> UnitByIdLoader:
        """Units as they were at a date (one loader, hence one request, per distinct date)."""
        if as_of is None:
            return self.unit_by_id
        if as_of not in self._as_of:
            self._as_of[as_of] = UnitByIdLoader(self.unit_by_id.rpc, self.unit_by_id.caller, as_of=as_of)
        return self._as_of[as_of]
