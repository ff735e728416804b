"""Turning a sensor's observation into a contract event: identity, ids, time of creation, validation.

The event's ``event.sequence`` is left at 0 here and set by the spool, inside the transaction that stores
the event (see :mod:`agent.spool`), so that numbers are never reused and gaps mean loss. An observation
that does not make a valid contract event is rejected here, before it consumes a sequence number, with
a reason naming the field.

The event is validated and encoded with the contract's msgspec wire types (:mod:`event_contract.wire`,
generated from the pydantic models): about five times cheaper per event than pydantic's validation and
dump. Those types never accept what the contract refuses; the few spellings they refuse and pydantic's
lax mode accepts are handed to the contract, whose verdict (and reason) is final, so the agent accepts and
refuses exactly what it did with pydantic alone. The event is encoded once, here; numbering it only
splices the sequence into those bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
import orjson

from agent.identity import Identity
from agent.sensors.base import Observation
from event_contract.datasets import Dataset
from event_contract.topics import message_key
from event_contract.wire_types import (
    STRUCT_BY_DATASET,
    AgentInfoWire,
    HostInfoWire,
    InformationSystemWire,
    OrganizationWire,
    encode_struct,
)

RUNTIME_OWNED = frozenset({"@timestamp", "host", "agent", "organization", "ecs"})
"""Top-level groups only the runtime writes; a sensor that sets them has a bug."""

RUNTIME_OWNED_EVENT_FIELDS = frozenset({"id", "sequence", "dataset", "kind", "created"})
SUPERSEDED_DATASETS = frozenset({Dataset.HEARTBEAT})
"""Datasets whose older events a newer one makes redundant: the spool drops these first when full."""


class InvalidObservation(ValueError):
    """An observation the runtime cannot turn into a contract event; ``reason`` is safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_SEQUENCE_PLACEHOLDER = b'"sequence":0'
"""How ``event.sequence`` = 0 reads in the encoded event. Inside a JSON string every quote is escaped, so
these bytes can only be the key itself; an event where they occur more than once (a ``sequence`` key in
a free-form map too) is rendered the slow way."""


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """A validated, encoded event waiting for its sequence number (implements :class:`agent.spool.Spoolable`).

    ``render`` gives the encoded event with ``event.sequence`` set to that number."""

    key: bytes
    droppable: bool
    _before: bytes
    _after: bytes | None
    """The encoded event around ``"sequence":0`` (``_before`` ends with ``"sequence":``); ``_after`` is
    None when the placeholder was not found exactly once, and ``_before`` is then the whole event."""

    @classmethod
    def of(cls, encoded: bytes, key: bytes, droppable: bool) -> PendingEvent:
        """``encoded``: a contract event whose ``event.sequence`` is 0."""
        if encoded.count(_SEQUENCE_PLACEHOLDER) != 1:
            return cls(key, droppable, encoded, None)
        at = encoded.index(_SEQUENCE_PLACEHOLDER) + len(_SEQUENCE_PLACEHOLDER) - 1
        return cls(key, droppable, encoded[:at], encoded[at + 1 :])

    def render(self, sequence: int) -> bytes:
        if sequence < 0:
            raise ValueError(f"event.sequence must not be negative, got {sequence}")
        if self._after is not None:
            return b"%b%d%b" % (self._before, sequence, self._after)
        document = orjson.loads(self._before)
        document["event"]["sequence"] = sequence
        return orjson.dumps(document)


class Enricher:
    """Stamps observations with this agent's identity. Stateless apart from the identity; never blocks."""

    def __init__(self, identity: Identity) -> None:
        self._identity = identity
        self._key = message_key(identity.host.id)
        # The identity's groups as wire values, once: msgspec takes them as they are into every event.
        self._host = _wire(identity.host, HostInfoWire)
        self._agent = _wire(identity.agent, AgentInfoWire)
        self._organization = _wire(identity.organization, OrganizationWire)
        self._system = _wire(identity.system, InformationSystemWire)

    def enrich(self, observation: Observation) -> PendingEvent:
        encoded = self.encode(self.document(observation), observation.dataset)
        return PendingEvent.of(encoded, self._key, observation.dataset in SUPERSEDED_DATASETS)

    def encode(self, document: dict[str, Any], dataset: Dataset) -> bytes:
        """Validate and encode an event built by :meth:`document`; raises :class:`InvalidObservation`."""
        try:
            # from_attributes: a sensor may hand contract models (the heartbeat's health) as well as dicts.
            event = msgspec.convert(document, STRUCT_BY_DATASET[dataset], from_attributes=True)
        except msgspec.ValidationError:
            return self.by_the_contract(document)
        return encode_struct(event)

    def by_the_contract(self, document: dict[str, Any]) -> bytes:
        """What the wire types refuse, the contract judges: it refuses with the reason it always gave, or
        accepts a spelling only its lax mode knows.
        (How every event was encoded before the wire types.) Only here is pydantic loaded, so an agent
        whose sensors never send such a spelling does without it."""
        from event_contract.codec import DecodeError, encode_event, event_from_dict

        try:  # as plain data: the contract's models take no wire Struct inside a dict
            document = msgspec.to_builtins(document, enc_hook=_dump)
        except TypeError as error:
            raise InvalidObservation(f"observation holds a value of no JSON type: {error}") from None
        try:
            return encode_event(event_from_dict(document))
        except DecodeError as error:
            raise InvalidObservation(error.reason) from None

    def document(self, observation: Observation) -> dict[str, Any]:
        fields = dict(observation.fields)
        clashing = RUNTIME_OWNED & fields.keys()
        if clashing:
            raise InvalidObservation(f"observation sets runtime-owned fields: {', '.join(sorted(clashing))}")
        sensor_meta = fields.pop("event", None) or {}
        sensor_extra = fields.pop("canhgac", None) or {}
        if not isinstance(sensor_meta, dict) or not isinstance(sensor_extra, dict):
            raise InvalidObservation("observation fields 'event' and 'canhgac' must be mappings")
        clashing = RUNTIME_OWNED_EVENT_FIELDS & sensor_meta.keys()
        if clashing:
            names = ", ".join(f"event.{name}" for name in sorted(clashing))
            raise InvalidObservation(f"observation sets runtime-owned fields: {names}")
        meta: dict[str, Any] = {
            **sensor_meta,
            "id": _uuid4(),
            "kind": "state" if observation.dataset == Dataset.HEARTBEAT else "event",
            "category": list(observation.category),
            "type": list(observation.type),
            "action": observation.action,
            "dataset": observation.dataset.value,
            "sequence": 0,
            "created": datetime.now(UTC),
        }
        if observation.outcome is not None:
            meta["outcome"] = observation.outcome
        document: dict[str, Any] = {
            **fields,
            "@timestamp": observation.timestamp,
            "event": meta,
            "host": self._host,
            "agent": self._agent,
            "organization": self._organization,
            "canhgac": {**sensor_extra, "system": self._system},
        }
        if observation.message is not None:
            document["message"] = observation.message
        return document


def _wire(value: Any, struct: type[Any]) -> Any:
    return msgspec.convert(value, struct, from_attributes=True)


def _dump(value: Any) -> Any:
    """A contract model a sensor handed over (``to_builtins`` does not know them) as plain data."""
    dump = getattr(value, "model_dump", None)
    if dump is None:
        raise TypeError(f"cannot encode {type(value).__name__}")
    return dump(mode="json", by_alias=True)


def _uuid4() -> str:
    """``str(uuid.uuid4())`` at less than half its cost (its string formatting is pure Python)."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    hexed = raw.hex()
    return f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"
