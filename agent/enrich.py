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
from datetime import UTC, datetime
from typing import Any, ClassVar, NamedTuple

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


class _Dataset(NamedTuple):
    """What the enricher needs of an ``event.dataset``, looked up once per event."""

    value: str
    kind: str
    droppable: bool
    wire: type[Any]


_DATASETS = {
    dataset: _Dataset(
        dataset.value,
        "state" if dataset == Dataset.HEARTBEAT else "event",
        dataset in SUPERSEDED_DATASETS,
        STRUCT_BY_DATASET[dataset],
    )
    for dataset in Dataset
}


class InvalidObservation(ValueError):
    """An observation the runtime cannot turn into a contract event; ``reason`` is safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_SEQUENCE_PLACEHOLDER = b'"sequence":0'
"""How ``event.sequence`` = 0 reads in the encoded event. Inside a JSON string every quote is escaped, so
these bytes can only be a key; an event where they occur more than once (a ``sequence`` key in a
free-form map too) is rendered the slow way."""


class PendingEvent(NamedTuple):
    """A validated, encoded event waiting for its sequence number (implements :class:`agent.spool.Spoolable`).

    ``render`` gives the encoded event with ``event.sequence`` set to that number. A tuple, not a frozen
    dataclass: one is made per event, and a frozen dataclass sets each field through
    ``object.__setattr__``."""

    key: bytes
    droppable: bool
    encoded: bytes
    """The event with ``event.sequence`` 0."""
    spliceable: bool
    """Whether the placeholder occurs exactly once, so that the number can be written in its place."""

    @classmethod
    def of(cls, encoded: bytes, key: bytes, droppable: bool) -> PendingEvent:
        """``encoded``: a contract event whose ``event.sequence`` is 0."""
        return cls(key, droppable, encoded, encoded.count(_SEQUENCE_PLACEHOLDER) == 1)

    def render(self, sequence: int) -> bytes:
        if sequence < 0:
            raise ValueError(f"event.sequence must not be negative, got {sequence}")
        if self.spliceable:  # one copy, in C
            return self.encoded.replace(_SEQUENCE_PLACEHOLDER, b'"sequence":%d' % sequence, 1)
        document = orjson.loads(self.encoded)
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
        dataset = _DATASETS[observation.dataset]
        encoded = self._encode(self._document(observation, dataset), dataset.wire)
        return PendingEvent(self._key, dataset.droppable, encoded, encoded.count(_SEQUENCE_PLACEHOLDER) == 1)

    def encode(self, document: dict[str, Any], dataset: Dataset) -> bytes:
        """Validate and encode an event built by :meth:`document`; raises :class:`InvalidObservation`."""
        return self._encode(document, _DATASETS[dataset].wire)

    def _encode(self, document: dict[str, Any], wire: type[Any]) -> bytes:
        try:
            # from_attributes: a sensor may hand contract models (the heartbeat's health) as well as dicts.
            event = msgspec.convert(document, wire, from_attributes=True)
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
        """The event as a mapping for :meth:`encode`: a new ``event.id``, ``event.sequence`` 0."""
        return self._document(observation, _DATASETS[observation.dataset])

    def _document(self, observation: Observation, dataset: _Dataset) -> dict[str, Any]:
        fields = observation.fields
        if not RUNTIME_OWNED.isdisjoint(fields):
            clashing = ", ".join(sorted(RUNTIME_OWNED & fields.keys()))
            raise InvalidObservation(f"observation sets runtime-owned fields: {clashing}")
        sensor_meta = fields.get("event") or {}
        sensor_extra = fields.get("canhgac") or {}
        if not isinstance(sensor_meta, dict) or not isinstance(sensor_extra, dict):
            raise InvalidObservation("observation fields 'event' and 'canhgac' must be mappings")
        if sensor_meta and not RUNTIME_OWNED_EVENT_FIELDS.isdisjoint(sensor_meta):
            names = ", ".join(
                f"event.{name}" for name in sorted(RUNTIME_OWNED_EVENT_FIELDS & sensor_meta.keys())
            )
            raise InvalidObservation(f"observation sets runtime-owned fields: {names}")
        # Tuples are given as they are for the lists (msgspec converts them); None is what an absent
        # outcome or message is anyway. Later keys win over the sensor's "event" and "canhgac".
        return {
            **fields,
            "@timestamp": observation.timestamp,
            "event": {
                **sensor_meta,
                "id": _uuid4(),
                "kind": dataset.kind,
                "category": observation.category,
                "type": observation.type,
                "action": observation.action,
                "dataset": dataset.value,
                "sequence": 0,
                "created": datetime.now(UTC),
                "outcome": observation.outcome,
            },
            "host": self._host,
            "agent": self._agent,
            "organization": self._organization,
            "canhgac": {**sensor_extra, "system": self._system},
            "message": observation.message,
        }


def _wire(value: Any, struct: type[Any]) -> Any:
    return msgspec.convert(value, struct, from_attributes=True)


def _dump(value: Any) -> Any:
    """A contract model a sensor handed over (``to_builtins`` does not know them) as plain data."""
    dump = getattr(value, "model_dump", None)
    if dump is None:
        raise TypeError(f"cannot encode {type(value).__name__}")
    return dump(mode="json", by_alias=True)


class _EventIds:
    """``str(uuid.uuid4())`` at a fraction of its cost: its string formatting is pure Python, and random
    bytes are read from ``os.urandom`` (a system call) 256 ids at a time."""

    _BLOCK = 16 * 256
    _VARIANT: ClassVar[dict[str, str]] = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
    """The first hex digit of the fourth group, given the RFC 4122 variant (binary 10xx)."""

    def __init__(self) -> None:
        self._hex = ""
        self._at = 0
        # A forked child must not hand out the ids its parent has in hand.
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._hex, self._at = "", 0

    def __call__(self) -> str:
        at = self._at
        if at >= len(self._hex):
            self._hex, at = os.urandom(self._BLOCK).hex(), 0
        self._at = at + 32
        digits = self._hex[at : at + 32]
        variant = self._VARIANT[digits[16]]
        return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"


_uuid4 = _EventIds()
