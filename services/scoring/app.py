"""Scoring service (计分服务): wires consumers, the incremental scorer, recompute jobs and RPC methods."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import FastAPI

from kaohe.runtime import Runtime
from kaohe.settings import ComponentSettings, InfraSettings
from services.scoring import consumers, workers
from services.scoring.rpc import admin, publication, reads
from services.scoring.rpc import quarantine as quarantine_rpc
from services.scoring.service import quarantine
from services.scoring.service.standings import Standings
from services.scoring.settings import QueueSettings

SERVICE = "scoring"


def setup(
    settings: ComponentSettings,
    infra: InfraSettings,
    app: FastAPI | None = None,
    *,
    queue: QueueSettings | None = None,
) -> Runtime:
    """Build the scoring runtime; nothing connects until `rt.start()`. `queue`: the scorer's retry and
    quarantine settings (default: from KAOHE_SCORING_SCORER_*)."""
    rt = Runtime(settings, infra)
    cache = workers.ModelCache()
    rt.state["models"] = cache
    places = Standings()  # shared by the scorer (writes) and the read methods
    rt.state["places"] = places
    consumers.subscribe(rt)
    reads.register(rt, cache, places)
    admin.register(rt)
    publication.register(rt, cache, places)
    quarantine_rpc.register(rt)
    book_queue = quarantine.BookQueue(queue)
    stop = asyncio.Event()

    def start_scorer(rt: Runtime) -> None:
        assert rt.db is not None
        stop.clear()
        ready = rt.state["scorer_ready"] = asyncio.Event()  # set once the scorer's working set is loaded
        rt.state["scorer"] = asyncio.create_task(
            # the readers' model cache: the preload builds the models they use too, before the freeze
            workers.run(rt.db, settings.event_prefix, stop, cache, places, ready, book_queue)
        )

    async def stop_scorer(rt: Runtime) -> None:
        stop.set()
        task = rt.state.get("scorer")
        if task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 5)
        for job in list(rt.state.get("jobs", ())):
            job.cancel()

    rt.on_start.append(start_scorer)
    rt.on_stop.append(stop_scorer)
    return rt
