"""Numbering an enriched event splices the sequence into bytes encoded once; the result is exactly the
contract's encoding of the event with that sequence, whatever the event holds."""

from __future__ import annotations

import pytest

from agent.enrich import Enricher, PendingEvent
from agent.identity import Identity
from agent.sensors.base import Observation
from event_contract import Dataset, Event, encode_event
from event_contract.events import AgentHealth
from tests.unit.agent.runtime_fixtures import login_observation


def _encoded_with(event: Event, sequence: int) -> bytes:
    meta = event.event.model_copy(update={"sequence": sequence})
    return encode_event(event.model_copy(update={"event": meta}))


@pytest.mark.parametrize("sequence", [0, 1, 7, 10, 999_999, 2**53 + 1])
def test_render_equals_the_contract_encoding(identity: Identity, sequence: int) -> None:
    pending = Enricher(identity).enrich(login_observation())

    assert pending.render(sequence) == _encoded_with(pending.event, sequence)


def test_sequence_lookalikes_in_strings_do_not_confuse_the_splice(identity: Identity) -> None:
    tricky = 'x","sequence":0,"y":"\\"sequence\\":0'
    pending = Enricher(identity).enrich(login_observation(user=tricky, message=tricky))

    assert pending.render(42) == _encoded_with(pending.event, 42)
    assert b'"sequence":42' in pending.render(42)


def test_a_second_sequence_key_falls_back_to_encoding_a_copy(identity: Identity) -> None:
    health = AgentHealth(interval_s=60.0, counters={"sequence": 0})
    observation = Observation(
        dataset=Dataset.HEARTBEAT,
        category=("host",),
        type=("info",),
        action="heartbeat",
        timestamp=login_observation().timestamp,
        fields={"canhgac": {"health": health.model_dump()}},
    )
    pending = Enricher(identity).enrich(observation)

    rendered = pending.render(5)

    assert rendered == _encoded_with(pending.event, 5)
    assert rendered.count(b'"sequence":0') == 1  # the counter, untouched
    assert pending.droppable


def test_a_negative_sequence_is_refused(identity: Identity) -> None:
    pending = Enricher(identity).enrich(login_observation())

    with pytest.raises(ValueError, match="negative"):
        pending.render(-1)


def test_pending_event_of_a_numbered_event_does_not_splice(identity: Identity) -> None:
    event = Enricher(identity).enrich(login_observation()).event
    numbered = event.model_copy(update={"event": event.event.model_copy(update={"sequence": 3})})

    pending = PendingEvent.of(numbered, b"key", droppable=False)

    assert pending.render(9) == _encoded_with(numbered, 9)
