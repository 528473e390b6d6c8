"""督办事项 rows read lazily: a GraphQL object over the service's JSON row, each field typed on first read.

A page of fifty `SupervisionItem`s was validated through the contract model and copied field by field (~40
fields, nested tasks) though a list query reads a handful. Here an object keeps its row and types a field —
enum member, date, datetime, nested task — the first time GraphQL or a resolver reads it (then keeps it),
with the contract model's default for a field the service left out; a field the contract lacks reads as
null, as `mk` does. A type opts in with `__getattr__ = lazy_field` (read only for names its instance lacks).
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

T = TypeVar("T")
Spec = dict[str, tuple[Callable[[Any], Any] | None, Callable[[], Any]]]
# contract model → the GraphQL type its nested rows become (filled where those types are defined)
NESTED: dict[type[BaseModel], type] = {}


def lazy(cls: type[T], model: type[BaseModel], row: dict[str, Any]) -> T:
    """An instance of the GraphQL type `cls` over `row`, an RPC result dict of the contract `model`."""
    obj = cls.__new__(cls)
    obj.__dict__["_spec"] = _spec(cls, model)
    obj.__dict__["_row"] = row
    return obj


def lazy_field(self: Any, name: str) -> Any:
    """`__getattr__` of a lazy type: the field typed from the row on first read, then kept."""
    d = self.__dict__
    spec = d.get("_spec")
    if spec is None or name not in spec:
        raise AttributeError(name)
    convert, default = spec[name]
    row = d["_row"]
    value = row[name] if name in row else default()
    if convert is not None and value is not None:
        value = convert(value)
    d[name] = value
    return value


@functools.cache
def _spec(cls: type, model: type[BaseModel]) -> Spec:
    out: Spec = {}
    for name in typing.get_type_hints(cls):
        if name.startswith("_"):
            continue
        f = model.model_fields.get(name)
        if f is None:
            out[name] = (None, _null)
        else:
            out[name] = (_converter(f.annotation), functools.partial(_default, model, name))
    return out


def _null() -> None:
    return None


def _default(model: type[BaseModel], name: str) -> Any:
    value = model.model_fields[name].get_default(call_default_factory=True)
    if value is PydanticUndefined:
        raise KeyError(f"{model.__name__}.{name} is missing from the service's result")
    return value


def _converter(tp: Any) -> Callable[[Any], Any] | None:
    """How a JSON value of the contract type `tp` becomes the typed value (None: it is used as it is)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):  # X | None: a null passes through (`lazy_field`)
        inner = [a for a in args if a is not type(None)]
        return _converter(inner[0]) if len(inner) == 1 else None
    if origin is list:
        each = _converter(args[0])
        return None if each is None else functools.partial(_each, each)
    if tp is datetime:
        return datetime.fromisoformat
    if tp is date:
        return date.fromisoformat
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return functools.partial(_nested, tp)
    return None


def _each(convert: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    return [convert(v) for v in values]


def _nested(model: type[BaseModel], row: dict[str, Any]) -> Any:
    return lazy(NESTED[model], model, row)
