"""Numbering an enriched event splices the sequence into bytes encoded once; the result is the contract's
encoding of the event with that sequence, whatever the event holds."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from agent.enrich import Enricher, PendingEvent
from agent.identity import Identity
from agent.sensors.base import Observation
from event_contract import Dataset, decode_event, encode_event
from event_contract.events import AgentHealth
from tests.unit.agent.runtime_fixtures import login_observation


def _contract_encoding_with(rendered_at_zero: bytes, sequence: int) -> Any:
    """The event as the contract encodes it with that sequence, parsed."""
    event = decode_event(rendered_at_zero)
    meta = event.event.model_copy(update={"sequence": sequence})
    return orjson.loads(encode_event(event.model_copy(update={"event": meta})))


@pytest.mark.parametrize("sequence", [0, 1, 7, 10, 999_999, 2**53 + 1])
def test_render_equals_the_contract_encoding(identity: Identity, sequence: int) -> None:
    pending = Enricher(identity).enrich(login_observation())

    rendered = pending.render(sequence)

    assert orjson.loads(rendered) == _contract_encoding_with(pending.render(0), sequence)
    assert decode_event(rendered).event.sequence == sequence


def test_sequence_lookalikes_in_strings_do_not_confuse_the_splice(identity: Identity) -> None:
    tricky = 'x","sequence":0,"y":"\\"sequence\\":0'
    pending = Enricher(identity).enrich(login_observation(user=tricky, message=tricky))

    assert orjson.loads(pending.render(42)) == _contract_encoding_with(pending.render(0), 42)
    assert b'"sequence":42' in pending.render(42)
    assert decode_event(pending.render(42)).message == tricky


def test_a_second_sequence_key_falls_back_to_setting_it_in_the_parsed_event(identity: Identity) -> None:
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

    assert orjson.loads(rendered) == _contract_encoding_with(pending.render(0), 5)
    assert decode_event(rendered).event.sequence == 5
    assert rendered.count(b'"sequence":0') == 1  # the counter, untouched
    assert pending.droppable


def test_a_negative_sequence_is_refused(identity: Identity) -> None:
    pending = Enricher(identity).enrich(login_observation())

    with pytest.raises(ValueError, match="negative"):
        pending.render(-1)


def test_pending_event_of_bytes_without_the_placeholder_does_not_splice() -> None:
    encoded = orjson.dumps({"event": {"sequence": 3}, "x": 1})

    pending = PendingEvent.of(encoded, b"key", droppable=False)

    assert orjson.loads(pending.render(9)) == {"event": {"sequence": 9}, "x": 1}
