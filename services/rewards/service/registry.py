"""Cadre registry use cases (干部名册): persons found by their ID number's keyed hash, posts over time.

The ID-card number is only ever hashed (HMAC-SHA256 under the service's key) and the name is stored for
authorised readers; neither goes into a log or an event. A new person gets a random opaque key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date
from typing import Any

import asyncpg

from kaohe.contracts.pages import decode_cursor, encode_cursor
from kaohe.contracts.rewards import (
    CadresList,
    PersonGradesSet,
    PersonUpsert,
    PostEnd,
    PostUpsert,
    UnitPoolsSet,
    UnitProfilesSet,
)
from kaohe.errors import Forbidden, NotFound, ValidationFailed
from kaohe.identity import Caller
from services.rewards.errors import RewardsErrorCode as E
from services.rewards.repository import registry as repo
from services.rewards.repository import units
from services.rewards.service import access


def id_hmac(key: bytes, id_number: str) -> str:
    """The keyed hash an ID-card number is stored and matched as (upper-case X normalised)."""
    return hmac.new(key, id_number.strip().upper().encode(), hashlib.sha256).hexdigest()


def new_key() -> str:
    return "P" + secrets.token_hex(12)


async def may_read_person(conn: asyncpg.Connection, caller: Caller, key: str) -> bool:
    """Readers covering a unit the person held a post in, and the person (their account)."""
    if key in await repo.key_of_account(conn, caller.user_id):
        return True
    if not caller.has(*access.READERS, *access.LOCAL):
        return False
    return any(caller.covers(p) for p in await repo.units_of_person(conn, key))


def _person(
    r: asyncpg.Record, posts: list[dict[str, Any]], names: bool, created: bool = False
) -> dict[str, Any]:
    return {
        "person_key": r["person_key"].strip(),
        "name": r["name"] if names else None,
        "account": r["account"] if names else None,
        "created": created,
        "posts": posts,
        "updated_at": r["updated_at"],
    }


async def upsert_person(
    conn: asyncpg.Connection, caller: Caller, p: PersonUpsert, *, key: bytes
) -> dict[str, Any]:
    access.require(caller, *access.REGISTRY_WRITERS)
    digest = id_hmac(key, p.id_number)
    known = (await repo.keys_by_hmac(conn, [digest])).get(digest)
    if known is not None and caller.org_path != "/":
        held = await repo.units_of_person(conn, known)
        if held and not any(caller.covers(x) for x in held):
            raise Forbidden(
                "the person holds posts outside your organisation subtree",
                field="id_number",
                code=E.FORBIDDEN_SCOPE,
            )
    r = await repo.upsert_person(conn, new_key(), digest, p.name, p.account)
    posts = [repo.public_post(x) for x in await repo.posts_of(conn, r["person_key"])]
    return _person(r, posts, True, created=bool(r["created"]))


async def get_person(conn: asyncpg.Connection, caller: Caller, person_key: str) -> dict[str, Any]:
    r = await repo.person(conn, person_key)
    own = r is not None and r["account"] is not None and r["account"] == caller.user_id
    if r is None or not (own or await may_read_person(conn, caller, person_key)):
        raise NotFound(f"person {person_key} not found", field="person_key", code=E.NOT_FOUND)
    posts = [repo.public_post(x) for x in await repo.posts_of(conn, person_key)]
    return _person(r, posts, own or access.sees_names(caller))


async def upsert_post(conn: asyncpg.Connection, caller: Caller, p: PostUpsert) -> dict[str, Any]:
    access.require(caller, *access.REGISTRY_WRITERS)
    path = await units.path_of(conn, p.unit_id)
    if path is None:
        raise NotFound(f"unit {p.unit_id} not found", field="unit_id", code=E.UNIT_UNKNOWN)
    caller.require_covers(path)
    if await repo.person(conn, p.person_key) is None:
        raise NotFound(f"person {p.person_key} not found", field="person_key", code=E.NOT_FOUND)
    r = await repo.open_post(
        conn,
        person_key=p.person_key,
        unit_id=p.unit_id,
        post=p.post,
        rank=p.rank,
        monthly_pay_fen=p.monthly_pay_fen,
        valid_from=p.valid_from,
        keep_others=p.keep_others,
    )
    return repo.public_post(r)


async def end_post(conn: asyncpg.Connection, caller: Caller, p: PostEnd) -> dict[str, Any]:
    access.require(caller, *access.REGISTRY_WRITERS)
    r = await repo.post_by_id(conn, p.post_id)
    if r is None or not caller.covers(r["unit_path"]):
        raise NotFound(f"post {p.post_id} not found", field="post_id", code=E.NOT_FOUND)
    if p.valid_to < r["valid_from"]:
        raise ValidationFailed("valid_to: before the post began", field="valid_to")
    await repo.end_post(conn, p.post_id, p.valid_to)
    return repo.public_post(await repo.post_by_id(conn, p.post_id))


async def cadres(conn: asyncpg.Connection, caller: Caller, p: CadresList) -> dict[str, Any]:
    if not access.reads_units(caller):
        caller.require(*access.READERS)
    path = await access.unit_path(conn, caller, p.unit_id)
    key = decode_cursor(p.after, 2)
    rows = await repo.cadres(
        conn,
        path=path,
        unit_id=p.unit_id,
        subtree=p.subtree,
        on=p.as_of or date.today(),
        after=(key[0], int(key[1])) if key else None,
        limit=p.first + 1,
    )
    names = access.sees_names(caller)
    items = [
        {**dict(r), "person_key": r["person_key"].strip(), "name": r["name"] if names else None}
        for r in rows[: p.first]
    ]
    more = len(rows) > p.first
    return {
        "items": items,
        "next": encode_cursor(items[-1]["person_key"], items[-1]["post_id"]) if more else None,
    }


async def set_grades(conn: asyncpg.Connection, caller: Caller, p: PersonGradesSet) -> dict[str, int]:
    access.require(caller, *access.REGISTRY_WRITERS)
    keys = [i.person_key for i in p.items]
    known = await repo.known_persons(conn, keys)
    for n, k in enumerate(keys):
        if k not in known:
            raise NotFound(f"person {k} not found", field=f"items.{n}.person_key", code=E.NOT_FOUND)
    if caller.org_path != "/":
        for n, k in enumerate(keys):
            if not any(caller.covers(x) for x in await repo.units_of_person(conn, k)):
                raise NotFound(f"person {k} not found", field=f"items.{n}.person_key", code=E.NOT_FOUND)
    return {"count": await repo.set_grades(conn, p.period, [(i.person_key, i.grade) for i in p.items])}


async def _covered_units(conn: asyncpg.Connection, caller: Caller, ids: list[str]) -> None:
    paths = await units.paths_of(conn, ids)
    for n, u in enumerate(ids):
        if u not in paths or not caller.covers(paths[u]):
            raise NotFound(f"unit {u} not found", field=f"items.{n}.unit_id", code=E.UNIT_UNKNOWN)


async def set_profiles(conn: asyncpg.Connection, caller: Caller, p: UnitProfilesSet) -> dict[str, int]:
    access.require(caller, *access.MANAGERS)
    await _covered_units(conn, caller, [i.unit_id for i in p.items])
    return {"count": await units.set_kinds(conn, [(i.unit_id, i.unit_kind) for i in p.items])}


async def set_pools(conn: asyncpg.Connection, caller: Caller, p: UnitPoolsSet) -> dict[str, int]:
    access.require(caller, *access.MANAGERS)
    await _covered_units(conn, caller, [i.unit_id for i in p.items])
    return {"count": await repo.set_pools(conn, p.period, [(i.unit_id, i.pool_fen) for i in p.items])}
