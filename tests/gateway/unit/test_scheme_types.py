"""Typed scheme input and output (gateway.graphql.scheme_types / scheme_document) against the scheme model.

The GraphQL side runs through a small strawberry schema using the same types, so variables are coerced
exactly as the gateway coerces them (camelCase, enums by name, @oneOf).
"""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from pydantic import ValidationError
from strawberry.scalars import JSON

from gateway.graphql.scheme_document import SchemeDocument, document_of
from gateway.graphql.scheme_types import (
    CompletionRatioInput,
    DeductionInput,
    IndicatorInput,
    SchemeInput,
    StandardInput,
    as_document_error,
    scheme_dict,
    scheme_param,
)
from kaohe.contracts.scheme import Scheme, all_indicators
from kaohe.errors import ValidationFailed
from kaohe.rpc import validation_error
from services.indicators.domain.inherit import validate_inheritance
from services.indicators.domain.validate import validate_scheme
from services.indicators.rpc.schemes import SchemeSave
from tests.support.scheme_documents import DOCUMENT, as_input, parent_input, rich_input, rich_json
from tests.support.seed import scheme_body

UNITS = {"parent": "14", "county": "140502", "town": "140525001", "dept": "1405-fgw"}


@strawberry.type
class Query:
    @strawberry.field
    def convert(self, document: SchemeInput) -> JSON:
        return scheme_dict(document, assessing_unit="1405", year=2026)

    @strawberry.field
    def read(self, scheme: JSON) -> SchemeDocument:
        return document_of(scheme)


SCHEMA = strawberry.Schema(query=Query)
CONVERT = "query($d: SchemeInput!) { convert(document: $d) }"


def convert(document: dict[str, Any]) -> Any:
    r = SCHEMA.execute_sync(CONVERT, {"d": document})
    if r.errors:
        raise r.errors[0].original_error or AssertionError(r.errors)
    assert r.data is not None
    return r.data["convert"]


def _no_nulls(v: Any) -> Any:
    """Model JSON without null-valued keys (unset and null inputs both leave the model's None default)."""
    if isinstance(v, dict):
        return {k: _no_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_no_nulls(x) for x in v]
    return v


def _leaf(code: str, name: str, weight: float, target: float | None) -> dict[str, Any]:
    if target is None:
        return {
            "code": code,
            "name": name,
            "level": 2,
            "weight": weight,
            "standard": {"deduction": {"perOccurrence": 2}},
        }
    std = {"completionRatio": {"cap": 1.2}}
    return {"code": code, "name": name, "level": 2, "weight": weight, "target": target, "standard": std}


def test_typed_input_equals_the_seed_scheme_json() -> None:
    typed = {
        "name": "2026年度目标责任考核 (JC)",
        "categories": ["县区"],
        "trunk": [
            {
                "code": "JCECO",
                "name": "经济发展",
                "level": 1,
                "weight": 60,
                "children": [_leaf("JCGDP", "地区生产总值", 30, 100), _leaf("JCFAI", "固定资产投资", 30, 50)],
            },
            {
                "code": "JCGOV",
                "name": "社会治理",
                "level": 1,
                "weight": 40,
                "children": [_leaf("JCSVC", "政务服务", 20, 10), _leaf("JCSAFE", "安全生产", 20, None)],
            },
        ],
    }
    assert convert(typed) == scheme_body("1405", "县区", "JC")


def test_rich_typed_input_equals_the_model_json_and_validates() -> None:
    expected = rich_json(assessing_unit="1405", **UNITS)
    got = convert(rich_input(**UNITS))
    dumped = Scheme.model_validate(expected).model_dump(mode="json")
    del dumped["version"]  # the service numbers versions; the input has none
    assert got == _no_nulls(dumped)
    scheme = Scheme.model_validate(got)
    assert scheme == Scheme.model_validate(expected)
    kinds = {type(i.standard).__name__ for i, _ in all_indicators(scheme) if i.standard is not None}
    assert kinds == {
        "CompletionRatio",
        "Banded",
        "RankAmongPeers",
        "Deduction",
        "Qualitative",
        "Bonus",
        "Veto",
        "Formula",
    }
    roster = {UNITS["county"]: "县区", UNITS["town"]: "乡镇"}
    assert validate_scheme(scheme, roster) == []
    parent = Scheme.model_validate(scheme_dict_of(parent_input(), "14"))
    assert validate_inheritance(scheme, parent) == []


def scheme_dict_of(typed: dict[str, Any], assessing_unit: str) -> dict[str, Any]:
    return {**convert(typed), "assessing_unit": assessing_unit}


def test_document_reads_back_as_the_typed_input() -> None:
    stored = Scheme.model_validate(rich_json(assessing_unit="1405", **UNITS)).model_dump(mode="json")
    r = SCHEMA.execute_sync(
        f"query($s: JSON!) {{ read(scheme: $s) {{ ...Doc }} }}\n{DOCUMENT}", {"s": stored}
    )
    assert r.errors is None and r.data is not None
    assert as_input(r.data["read"]) == rich_input(**UNITS)


def test_a_standard_takes_exactly_one_kind() -> None:
    two = {
        "code": "A",
        "name": "甲",
        "level": 1,
        "weight": 100,
        "standard": {"completionRatio": {}, "deduction": {"perOccurrence": 1}},
    }
    r = SCHEMA.execute_sync(CONVERT, {"d": {"trunk": [two]}})
    assert r.errors and "exactly one key" in r.errors[0].message
    none = {**two, "standard": {}}
    r = SCHEMA.execute_sync(CONVERT, {"d": {"trunk": [none]}})
    assert r.errors and "exactly one key" in r.errors[0].message
    # built in Python, past GraphQL's own check: the converter names the input path
    both = StandardInput(completion_ratio=CompletionRatioInput(), deduction=DeductionInput(per_occurrence=1))
    doc = SchemeInput(trunk=[IndicatorInput(code="A", name="甲", level=1, standard=both)])
    with pytest.raises(ValidationFailed) as e:
        scheme_dict(doc, assessing_unit="1405", year=2026)
    assert e.value.field == "document.trunk.0.standard"


def test_a_pair_list_must_not_repeat_a_key() -> None:
    leaf = {**_leaf("A", "甲", 100, 10), "level": 1}
    leaf["targetsByUnit"] = [{"unitId": "140502", "target": 1}, {"unitId": "140502", "target": 2}]
    with pytest.raises(ValidationFailed) as e:
        convert({"trunk": [leaf]})
    assert e.value.field == "document.trunk.0.targetsByUnit.1.unitId"


def test_exactly_one_of_document_or_scheme_json() -> None:
    doc = SchemeInput(name="甲")
    with pytest.raises(ValidationFailed) as e:
        scheme_param(None, None, assessing_unit="1405", year=2026)
    assert (e.value.code, e.value.field) == ("validation_failed", "document")
    with pytest.raises(ValidationFailed) as e:
        scheme_param({"trunk": []}, doc, assessing_unit="1405", year=2026)
    assert (e.value.code, e.value.field) == ("validation_failed", "scheme")
    assert scheme_param({"trunk": []}, None, assessing_unit="1405", year=2026) == {"trunk": []}
    assert scheme_param(strawberry.UNSET, doc, assessing_unit="1405", year=2026) == {
        "assessing_unit": "1405",
        "year": 2026,
        "name": "甲",
    }


def test_the_services_errors_name_the_typed_input_path() -> None:
    typed = {
        "trunk": [
            {
                "code": "A",
                "name": "甲",
                "level": 1,
                "weight": 100,
                "standard": {"completionRatio": {"cap": 5}},
            }
        ]
    }
    params = {"assessing_unit": "1405", "year": 2026, "scheme": convert(typed)}
    with pytest.raises(ValidationError) as e:
        SchemeSave.model_validate(params)
    err = as_document_error(validation_error(e.value))
    assert err.field == "document.trunk.0.standard.completionRatio.cap"
    assert err.message.startswith("document.trunk.0.standard.completionRatio.cap: ")
    assert err.details[0]["field"] == err.field
