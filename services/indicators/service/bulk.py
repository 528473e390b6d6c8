"""Bulk submission use cases (批量填报): the import context, parse (dry run), atomic idempotent commit."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe import logs
from kaohe.contracts.indicators import ImportScope, SubmissionsImported
from kaohe.contracts.scheme import Scheme
from kaohe.db import Database
from kaohe.errors import Conflict, NotFound, ValidationFailed
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.indicators.domain import (
    CopyRow,
    FieldSpec,
    ImportContext,
    ImportReport,
    access,
    parse_upload,
)
from services.indicators.domain.bulk_template import _canonical, _known_codes
from services.indicators.domain.values import submission_fields
from services.indicators.errors import IndicatorsErrorCode
from services.indicators.models import SchemeRow
from services.indicators.repository import bulk as bulk_store
from services.indicators.repository import schemes as scheme_store
from services.indicators.repository import targets
from services.indicators.repository.units import require_unit
from services.indicators.schemas import ImportReq, Scope

INLINE_MAX = 256 * 1024
log = logs.get("kaohe.indicators.bulk")


def _fields(
    scheme: Scheme,
    unit_id: str,
    category: str | None,
    source: str,
    department: str | None,
    cache: dict[Any, dict[str, FieldSpec]],
    own: set[str],
) -> dict[str, FieldSpec]:
    """submission_fields, computed once per category for units without supplements of their own."""
    key = (unit_id if unit_id in own else None, category)
    if key not in cache:
        cache[key] = submission_fields(scheme, unit_id, category, source=source, department=department)  # type: ignore[arg-type]
    return cache[key]


async def build_context(s: AsyncSession, caller: Caller, row: SchemeRow, p: Scope) -> ImportContext:
    """Who fills what this period, limited to the caller's subtree, with already approved pairs locked."""
    scheme, period = scheme_store.to_domain(row), _canonical(p.period)
    roster = targets.roster_of(row)
    # one hash join: `id = ANY(10k-array)` compares each row with every element (0.1 s per 10k units)
    found = await s.execute(
        text(
            "SELECT u.id, u.path, u.name FROM unit u JOIN unnest(CAST(:i AS text[])) AS r(id) ON u.id = r.id"
        ),
        {"i": list(roster)},
    )
    paths, names = {}, {}
    for uid, path, name in found:
        paths[uid], names[uid] = path, name
    if p.unit_id is not None:
        await require_unit(s, caller, p.unit_id)
        if p.unit_id not in roster:
            raise ValidationFailed(f"unit {p.unit_id} is not assessed by this scheme", field="unit_id")
        units, source, dept = [p.unit_id], "unit_report", None
    else:
        units = [u for u in roster if caller.covers(paths.get(u, "\x00"))]
        source, dept = "department", p.department
    own = {sup.unit_id for sup in scheme.supplements if sup.unit_id}
    cache: dict[Any, dict[str, FieldSpec]] = {}
    expected: dict[tuple[str, str], FieldSpec] = {}
    per_unit = {u: _fields(scheme, u, roster[u], source, dept, cache, own) for u in units}
    shared = {id(f): f for f in per_unit.values()}.values()  # one dict per category: 10 codes, not 100k
    # codes the caller may not write (another department's, or a department's source for a unit's
    # reporter) are left out of the template and reported as problems by a dry run or a commit
    denied = {code: d.zh for code, d in access.denied_codes(caller, scheme).items()}
    codes = [c for c in dict.fromkeys(c for f in shared for c in f) if c not in denied]
    for code in codes:  # grouped by indicator, as department_context orders a department's template
        for u in units:
            if code in per_unit[u]:
                expected[(u, code)] = per_unit[u][code]
    locked = await s.execute(
        text(
            "SELECT unit_id, code FROM submission WHERE assessing_unit = :a AND period = :p"
            " AND status IN ('approved', 'reviewed')"
        ),
        {"a": row.assessing_unit, "p": period},
    )
    return ImportContext(
        period=period,
        expected=expected,
        unit_names={u: names.get(u, u) for u in units},
        known_codes=_known_codes(scheme),
        locked=frozenset((a, b) for a, b in locked),
        denied=denied,
    )


async def previous_values(s: AsyncSession, row: SchemeRow, period: str) -> dict[tuple[str, str], float]:
    """Last period's values of the same kind, for outlier flags (合理性校验)."""
    period = period
    rows = await s.execute(
        text(
            "SELECT DISTINCT ON (unit_id, code) unit_id, code, value FROM submission"
            " WHERE assessing_unit = :a"
            " AND period LIKE :pat AND period < :p AND value IS NOT NULL ORDER BY unit_id, code, period DESC"
        ),
        {"a": row.assessing_unit, "pat": targets.same_granularity(period), "p": period},
    )
    return {(u, c): float(v) for u, c, v in rows}


def report_dict(rep: ImportReport, *, dry_run: bool) -> dict[str, Any]:
    return {
        "ok": rep.ok,
        "dry_run": dry_run,
        "rows_read": rep.rows_read,
        "accepted": len(rep.rows),
        "problem_count": rep.problem_count,
        "truncated": rep.truncated,
        "problems": [x.model_dump(mode="json") for x in rep.problems],
        "flags": [x.model_dump(mode="json") for x in rep.flags],
        "committed": False,
        "import_id": None,
        "replayed": False,
    }


async def run_import(rt: Runtime, caller: Caller, p: ImportReq, content: bytes) -> dict[str, Any]:
    """The whole import path: context, parse (dry run), then an atomic idempotent commit."""
    digest = hashlib.sha256(
        json.dumps([p.scheme_id, p.period, p.unit_id, p.department, p.filename]).encode() + content
    ).hexdigest()
    t0 = time.perf_counter()
    async with _db(rt).uow() as s:
        row = await scheme_store.get_row(s, caller, p.scheme_id)
        if row.status != "published":
            raise ValidationFailed("data can only be imported against a published scheme", field="scheme_id")
        if p.client_key is not None and not p.dry_run:
            done = (
                await s.execute(
                    text(
                        "SELECT digest, result FROM bulk_import WHERE assessing_unit = :a AND client_key = :k"
                    ),
                    {"a": row.assessing_unit, "k": p.client_key},
                )
            ).first()
            if done is not None:
                return _replay(done, digest)  # a rolled-back claim is gone; a committed one has a result
        ctx = await build_context(s, caller, row, p)
        previous = await previous_values(s, row, ctx.period)
    t1 = time.perf_counter()
    parse = functools.partial(parse_upload, io.BytesIO(content), p.filename, ctx, previous=previous)
    if p.dry_run:
        return report_dict(await asyncio.to_thread(parse), dry_run=True)
    out = await parse_and_commit(rt, caller, p, row, ctx.period, parse, digest)
    log.info(
        "bulk.imported",
        rows=out["accepted"],
        committed=out["committed"],
        context_s=round(t1 - t0, 3),
        parse_and_commit_s=round(time.perf_counter() - t1, 3),
    )
    return out


class _Rejected(Exception):
    """The file has problems: everything streamed so far is rolled back and the report returned."""

    def __init__(self, out: dict[str, Any]) -> None:
        super().__init__("import rejected")
        self.out = out


async def parse_and_commit(
    rt: Runtime,
    caller: Caller,
    p: ImportReq,
    row: SchemeRow,
    period: str,
    parse: Callable[..., ImportReport],
    digest: str,
) -> dict[str, Any]:
    """Parse in a thread while its clean prefix is already written in the transaction (PostgreSQL works on
    one core while Python parses on the other); a problem anywhere rolls all of it back: atomic."""
    loop = asyncio.get_running_loop()
    chunks: asyncio.Queue[list[CopyRow] | None] = asyncio.Queue()
    task = asyncio.ensure_future(
        asyncio.to_thread(parse, on_chunk=lambda rows: loop.call_soon_threadsafe(chunks.put_nowait, rows))
    )
    task.add_done_callback(lambda _: chunks.put_nowait(None))  # after every chunk: FIFO callbacks
    import_id = uuid.uuid4().hex
    try:
        async with _db(rt).uow() as s:
            seq = await _claim(s, caller, p, row, import_id, digest, period)
            if seq is None:  # a concurrent commit with this key won; it has committed by now
                return _replay(await _done(s, row, p), digest)
            w = bulk_store.Writer(
                s,
                scheme_id=row.id,
                scheme_version=row.version,
                assessing_unit=row.assessing_unit,
                actor=caller.user_id,
                import_id=import_id,
            )
            await w.write(_clean_rows(chunks, task))
            rep = await task
            out = report_dict(rep, dry_run=False)
            if not rep.ok or not rep.rows:
                raise _Rejected(out)
            out.update(committed=True, import_id=import_id)
            await s.execute(
                text("UPDATE bulk_import SET result = CAST(:r AS json), rows = :n WHERE seq = :seq"),
                {"r": json.dumps({**out, "flags": out["flags"][:1000]}), "n": len(rep.rows), "seq": seq},
            )
            data = imported_event(row, p, rep, import_id, actor=caller.user_id)
            await rt.outbox.emit(s, data.event(subject=import_id, trace_id=caller.trace_id))
        return out
    except _Rejected as e:
        return e.out
    finally:
        await asyncio.wait({task})  # the parser thread is not left running unobserved


async def _clean_rows(
    chunks: asyncio.Queue[list[CopyRow] | None], task: asyncio.Future[ImportReport]
) -> AsyncIterator[list[CopyRow]]:
    """The clean prefix as the parser streams it, then, once parsing is done, the rest of a clean file.

    Never raises: a failed parse just ends the rows (the caller awaits the task), so a COPY fed from here
    is not aborted midway."""
    sent = 0
    while (chunk := await chunks.get()) is not None:
        sent += len(chunk)
        yield chunk
    if task.cancelled() or task.exception() is not None:
        return
    rep = task.result()
    if rep.ok and len(rep.rows) > sent:
        yield rep.rows[sent:]


async def _claim(
    s: AsyncSession, caller: Caller, p: ImportReq, row: SchemeRow, import_id: str, digest: str, period: str
) -> int | None:
    """Take the client key first: a concurrent import with the same key waits here, then replays."""
    claimed = await s.execute(
        text(
            "INSERT INTO bulk_import (assessing_unit, client_key, id, digest, result, created_by, period,"
            " filename) VALUES (:a, :k, :i, :d, CAST('{}' AS json), :u, :p, :f)"
            " ON CONFLICT DO NOTHING RETURNING seq"
        ),
        {
            "a": row.assessing_unit,
            "k": p.client_key,
            "i": import_id,
            "d": digest,
            "u": caller.user_id,
            "p": period,
            "f": p.filename,
        },
    )
    seq = claimed.scalar()
    return None if seq is None else int(seq)


async def _done(s: AsyncSession, row: SchemeRow, p: ImportReq) -> Any:
    done = (
        await s.execute(
            text("SELECT digest, result FROM bulk_import WHERE assessing_unit = :a AND client_key = :k"),
            {"a": row.assessing_unit, "k": p.client_key},
        )
    ).first()
    assert done is not None
    return done


def imported_event(
    row: SchemeRow, p: ImportReq, rep: ImportReport, import_id: str, *, actor: str
) -> SubmissionsImported:
    """`submissions.imported`: one event per committed import instead of one per value."""
    return SubmissionsImported(
        import_id=import_id,
        scheme_id=row.id,
        scheme_version=row.version,
        assessing_unit=row.assessing_unit,
        year=row.year,
        period=rep.rows[0].period,
        count=len(rep.rows),
        unit_ids=sorted({r.unit_id for r in rep.rows}),
        codes=sorted({r.indicator_code for r in rep.rows}),
        scope=ImportScope(unit_id=p.unit_id)
        if p.unit_id is not None
        else ImportScope(department=p.department),
        filename=p.filename,
        actor=actor,
        at=datetime.now(UTC),
    )


def _replay(done: Any, digest: str) -> dict[str, Any]:
    if done[0] != digest:
        raise Conflict(
            "this client_key was used for a different file or scope",
            field="client_key",
            code=IndicatorsErrorCode.IDEMPOTENCY_KEY_REUSED,
        )
    return {**done[1], "replayed": True}


async def read_object(rt: Runtime, key: str) -> bytes:
    assert rt.store is not None
    store = rt.store

    def work() -> bytes:
        resp = store.client.get_object(store.bucket, key)
        try:
            return resp.read()
        finally:
            resp.close()
            resp.release_conn()

    try:
        return await asyncio.to_thread(work)
    except Exception:
        raise NotFound("upload not found; PUT the file to upload_url first", field="object_key") from None


def _db(rt: Runtime) -> Database:
    assert rt.db is not None
    return rt.db
