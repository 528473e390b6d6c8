"""Event payloads: one pydantic model per event type, the base they share and the registry of all of them.

The CloudEvent envelope, the outbox and `new_event` stay in `kaohe.events`; a payload model builds the
envelope's `data` (`Model(...).event(subject=…)`) and reads it back (`Model.from_event(event)`). Unknown
fields are ignored on reading, so adding a field stays compatible (docs/contracts/events.md).
"""

from __future__ import annotations

import importlib
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict

from kaohe.events import CloudEvent, new_event

EVENT_TYPES: dict[str, type[EventPayload]] = {}
PRODUCERS = ("indicators", "scoring", "supervision", "rewards", "notices")  # kaohe/contracts/<producer>.py


class EventPayload(BaseModel):
    """The `data` of one event type; subclasses set `TYPE` (`kaohe.<service>.<entity>.<past_verb>`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    TYPE: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        etype = cls.__dict__.get("TYPE")
        if etype:
            if etype in EVENT_TYPES:
                raise TypeError(f"TYPE: {etype} has two payload models")
            EVENT_TYPES[etype] = cls

    def data(self) -> dict[str, Any]:
        """The JSON `data` of the envelope."""
        return self.model_dump(mode="json")

    def event(self, *, subject: str, trace_id: str | None = None) -> CloudEvent:
        """A new CloudEvent of this type carrying this payload (for `Outbox.emit`)."""
        _, service, entity, verb = self.TYPE.split(".")
        return new_event(service, entity, verb, subject=subject, data=self.data(), trace_id=trace_id)

    @classmethod
    def from_event(cls, event: CloudEvent) -> Self:
        """The payload of a received event of this type."""
        if event.type != cls.TYPE:
            raise ValueError(f"type: expected {cls.TYPE}, got {event.type}")
        return cls.model_validate(event.data)


def load_all() -> dict[str, type[EventPayload]]:
    """Every event type's payload model (importing each producer's contract module registers them)."""
    for producer in PRODUCERS:
        importlib.import_module(f"kaohe.contracts.{producer}")
    return EVENT_TYPES


def payload_of(event: CloudEvent) -> EventPayload:
    """The payload of any event type."""
    model = load_all().get(event.type)
    if model is None:
        raise ValueError(f"type: no payload model for {event.type}")
    return model.model_validate(event.data)
