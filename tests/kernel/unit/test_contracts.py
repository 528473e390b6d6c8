"""The event contract: docs/contracts/events.md and the payload models agree; models round-trip envelopes."""

import re
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from kaohe.contracts.events import EVENT_TYPES, EventPayload, load_all, payload_of
from kaohe.contracts.indicators import SubmissionApproved
from kaohe.contracts.scoring import ScoreUpdated
from kaohe.contracts.supervision import SupervisionResultScored

DOC = Path(__file__).parents[3] / "docs" / "contracts" / "events.md"
HEADING = re.compile(r"^### `(kaohe\.[a-z_.|]+)`", re.M)


def sections() -> dict[str, str]:
    """Event type → the text of its section (a heading `a.b.c.x|y` documents a.b.c.x and a.b.c.y)."""
    text = DOC.read_text()
    found = list(HEADING.finditer(text))
    out: dict[str, str] = {}
    for m, nxt in zip(found, [*found[1:], None], strict=True):
        end = nxt.start() if nxt else len(text)
        body = text[m.end() : end].split("\n## ")[0]
        head, _, verbs = m.group(1).rpartition(".")
        for verb in verbs.split("|"):
            out[f"{head}.{verb}"] = body
    return out


def field_names(model: type[BaseModel]) -> set[str]:
    """The model's fields and those of the models nested in it."""
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(name)
        for arg in _types(info.annotation):
            nested = isinstance(arg, type) and issubclass(arg, BaseModel)
            if nested and arg.__module__ != "kaohe.contracts.scheme":  # the scheme is its own document
                names |= field_names(arg)
    return names


def _types(annotation: object) -> list[object]:
    args = getattr(annotation, "__args__", ())
    return [annotation, *[t for a in args for t in _types(a)]]


def test_every_event_type_is_documented_and_every_documented_type_has_a_model() -> None:
    assert set(load_all()) == set(sections())


@pytest.mark.parametrize("etype", sorted(load_all()))
def test_every_field_is_named_in_its_section(etype: str) -> None:
    body = sections()[etype]
    missing = sorted(n for n in field_names(EVENT_TYPES[etype]) if f'"{n}"' not in body)
    assert not missing, f"{etype}: fields not in docs/contracts/events.md: {missing}"


def test_a_payload_round_trips_through_its_envelope() -> None:
    sent = ScoreUpdated(
        unit_id="140502",
        unit_path="/14/1405/140502/",
        scheme_id="s1",
        period="2026-Q1",
        total=87.25,
        version=5,
        cause_event="e1",
    )
    event = sent.event(subject="140502:2026-Q1", trace_id="t1")
    assert event.type == "kaohe.scoring.score.updated" and event.source == "/kaohe/scoring"
    assert ScoreUpdated.from_event(event) == sent
    assert payload_of(event) == sent


def test_reading_ignores_unknown_fields_and_names_the_bad_one() -> None:
    data = {
        "unit_id": "u",
        "unit_path": "/u/",
        "period": "2026-Q1",
        "score": 92.0,
        "added_later": 1,
    }
    assert SupervisionResultScored.model_validate(data).score == 92.0
    with pytest.raises(ValidationError) as e:
        SupervisionResultScored.model_validate({**data, "period": "2026Q1"})
    assert e.value.errors()[0]["loc"] == ("period",)


def test_from_event_refuses_another_type() -> None:
    event = ScoreUpdated(
        unit_id="u", unit_path="/u/", scheme_id="s", period="2026", total=1.0, version=1, cause_event="c"
    ).event(subject="u:2026")
    with pytest.raises(ValueError, match="type"):
        SubmissionApproved.from_event(event)


def test_every_payload_model_names_its_type() -> None:
    for etype, model in load_all().items():
        assert issubclass(model, EventPayload) and model.TYPE == etype
        assert re.fullmatch(r"kaohe\.[a-z]+\.[a-z_]+\.[a-z_]+", etype)
