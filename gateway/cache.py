"""Response cache for hot read queries (ranking, grades, 三色榜, warnings), per worker process.

Correct by construction, not by timing:
- **Key** = (normalized query document, operation name, variables, the caller's scope: roles, org path,
  indicator codes, API-key scopes). Two callers share an entry only if every service would answer them
  alike; a caller over another subtree, with other roles or other indicators never meets another's entry.
- **Value** = the serialized response (status, headers, bytes) of a successful execution (no `errors`).
- **Invalidation**: a generation counter bumped by every NATS event that can change the data (scoring's
  score/warning/results events, the indicators service's unit and scheme events) and by every NATS
  reconnect (events may have been missed). An entry is stored under the generation read *before* its
  execution started, so a response computed across an event is never served after it. Events scoring
  itself consumes (`unit.changed`, `scheme.published`) bump again `settle_s` later, once scoring has
  applied them. A TTL is the safety net; the size is bounded (LRU).
- **Only documents whose every field is safe**: query operations whose root fields are in `ROOTS` and whose
  nested fields stay on plain result types (the optional `unit` join, with its evidence and supervision
  fields, fed by events that do not bump the generation, makes a document uncacheable). Never mutations,
  subscriptions or introspection.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    is_leaf_type,
    parse,
    print_ast,
    visit,
)

from gateway.live import LIVE_TYPES
from kaohe.identity import Caller

ROOTS = frozenset({"ranking", "grades", "board", "warnings"})
# Events consumed by scoring before they show in its answers: bump now and once more after `settle_s`.
SETTLE_TYPES: tuple[str, ...] = ("kaohe.indicators.unit.changed", "kaohe.indicators.scheme.published")
# The cached roots are scoring's answers: only scoring's events change them (a supervision card reaches a
# ranking as scoring's own score.updated), so other services' live events leave the entries alone.
SCORING_TYPES: tuple[str, ...] = tuple(t for t in LIVE_TYPES if t.startswith("kaohe.scoring."))
INVALIDATING_TYPES: tuple[str, ...] = (*SCORING_TYPES, *SETTLE_TYPES)

Key = tuple[str, str | None, bytes, tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Entry:
    generation: tuple[int, int]
    expires: float
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def scope_of(caller: Caller) -> tuple[Any, ...]:
    """Everything about a caller that the services' answers depend on (not the user id: no per-user data)."""
    return (
        tuple(sorted(r.value for r in caller.roles)),
        caller.org_path,
        tuple(sorted(caller.indicator_codes)),
        tuple(sorted(caller.scopes)),
    )


def safe_fields(schema: GraphQLSchema) -> frozenset[tuple[str, str]]:
    """(parent type, field) pairs a cacheable document may select: the roots, then every field of the types
    reachable from them whose type is a leaf or another reachable type — stopping at fields with arguments
    (other than on the roots) and at object types with resolvers reaching beyond the result (`Unit`)."""
    query = schema.query_type
    assert query is not None
    allowed: set[tuple[str, str]] = {(query.name, "__typename")}
    todo: list[GraphQLObjectType] = []
    for name in ROOTS:
        allowed.add((query.name, name))
        t = get_named_type(query.fields[name].type)
        assert isinstance(t, GraphQLObjectType)
        todo.append(t)
    seen: set[str] = set()
    while todo:
        t = todo.pop()
        if t.name in seen:
            continue
        seen.add(t.name)
        allowed.add((t.name, "__typename"))
        for fname, f in t.fields.items():
            target = get_named_type(f.type)
            if f.args:
                continue
            if is_leaf_type(target):
                allowed.add((t.name, fname))
            elif isinstance(target, GraphQLObjectType) and target.name not in UNSAFE_TYPES:
                allowed.add((t.name, fname))
                todo.append(target)
    return frozenset(allowed)


UNSAFE_TYPES = frozenset({"Unit"})  # loaded from the unit tree with evidence, supervision, rewards fields


class ResponseCache:
    """An LRU of serialized responses keyed by document, variables and caller scope; see the module doc."""

    def __init__(
        self,
        schema: GraphQLSchema,
        *,
        max_entries: int = 512,
        ttl_s: float = 10.0,
        settle_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self.settle_s = settle_s
        self.clock = clock
        self._schema = schema
        self._safe = safe_fields(schema)
        self._entries: OrderedDict[Key, Entry] = OrderedDict()
        self._documents: OrderedDict[tuple[str, str | None], str | None] = OrderedDict()
        self._gen = 0
        self._reconnects: Callable[[], int] = lambda: 0
        self._connected: Callable[[], bool] = lambda: True
        self.hits = 0
        self.misses = 0

    def attach(self, reconnects: Callable[[], int], connected: Callable[[], bool]) -> None:
        """Tie validity to the NATS connection: a reconnect (events maybe missed) invalidates everything."""
        self._reconnects = reconnects
        self._connected = connected

    @property
    def generation(self) -> tuple[int, int]:
        return (self._gen, self._reconnects())

    @property
    def usable(self) -> bool:
        """Neither served nor stored while NATS is down: invalidating events could be missed."""
        return self._connected()

    def bump(self) -> None:
        self._gen += 1
        self._entries.clear()  # nothing older can be served again: free the memory now

    def on_event(self, event_type: str) -> None:
        """Called for every event received (before subscribers see it); "" = unreadable, assume a change."""
        if event_type and event_type not in INVALIDATING_TYPES:
            return
        self.bump()
        if event_type in SETTLE_TYPES:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # outside an event loop (unit tests of the cache)
                return
            loop.call_later(self.settle_s, self.bump)

    def document(self, query: str, operation_name: str | None) -> str | None:
        """The normalized document when the operation is cacheable, else None (memoized, bounded)."""
        k = (query, operation_name)
        if k in self._documents:
            self._documents.move_to_end(k)
            return self._documents[k]
        doc = self._normalize(query, operation_name)
        self._documents[k] = doc
        if len(self._documents) > self.max_entries:
            self._documents.popitem(last=False)
        return doc

    def _normalize(self, query: str, operation_name: str | None) -> str | None:
        try:
            ast = parse(query, no_location=True)
        except GraphQLError:
            return None
        ops = [d for d in ast.definitions if isinstance(d, OperationDefinitionNode)]
        op = ops[0] if len(ops) == 1 else None
        if operation_name is not None:
            named = [d for d in ops if d.name is not None and d.name.value == operation_name]
            op = named[0] if len(named) == 1 else None
        if op is None or op.operation is not OperationType.QUERY or len(ops) != 1:
            return None  # several operations: keep it simple, execute them
        if not self._only_safe_fields(ast):
            return None
        return print_ast(ast)

    def _only_safe_fields(self, ast: DocumentNode) -> bool:
        info = TypeInfo(self._schema)
        safe = self._safe
        ok = True

        class Check(Visitor):
            def enter_field(self, node: FieldNode, *_: Any) -> None:
                nonlocal ok
                parent = info.get_parent_type()
                if parent is None or (parent.name, node.name.value) not in safe:
                    ok = False

        visit(ast, TypeInfoVisitor(info, Check()))
        return ok

    def get(self, key: Key) -> Entry | None:
        e = self._entries.get(key)
        if e is None:
            self.misses += 1
            return None
        if e.generation != self.generation or e.expires <= self.clock():
            del self._entries[key]
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return e

    def put(
        self,
        key: Key,
        generation: tuple[int, int],
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> bool:
        """Store a response computed from data read at `generation`; refused when an event came since."""
        if generation != self.generation:
            return False
        self._entries[key] = Entry(generation, self.clock() + self.ttl_s, status, headers, body)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._entries)
