"""Enrichment: identity stamped, contract-valid output, bad observations rejected before numbering."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.enrich import Enricher, InvalidObservation
from agent.identity import Identity
from agent.spool import SPOOL_FILE, Spool
from event_contract import AuthenticationEvent, Dataset, decode_event, message_key
from tests.unit.agent.runtime_fixtures import login_observation


def test_enriched_event_carries_identity_and_validates_against_the_contract(identity: Identity) -> None:
    pending = Enricher(identity).enrich(login_observation())

    event = decode_event(pending.render(7))

    assert isinstance(event, AuthenticationEvent)
    assert event.event.sequence == 7
    assert event.event.kind == "event"
    assert event.event.dataset == Dataset.AUTHENTICATION
    assert event.event.created is not None
    assert event.host.id == "host-1"
    assert event.agent.id == "agent-1"
    assert event.organization.name == "Org One"
    assert event.canhgac.system.security_level == 4
    assert event.user is not None
    assert event.user.name == "alice"
    assert event.message == "Accepted password for alice"
    assert pending.key == message_key("host-1")
    assert not pending.droppable


def test_every_event_gets_its_own_id(identity: Identity) -> None:
    enricher = Enricher(identity)
    ids = {decode_event(enricher.enrich(login_observation()).render(1)).event.id for _ in range(50)}
    assert len(ids) == 50


def test_invalid_observation_is_rejected_with_the_field_named(identity: Identity) -> None:
    broken = login_observation(fields={"source": {"port": 70000}})

    with pytest.raises(InvalidObservation, match=r"source\.port"):
        Enricher(identity).enrich(broken)


def test_observation_cannot_overwrite_identity(identity: Identity) -> None:
    spoofing = login_observation(fields={"host": {"id": "elsewhere", "name": "x"}})

    with pytest.raises(InvalidObservation, match="runtime-owned fields: host"):
        Enricher(identity).enrich(spoofing)


def test_observation_cannot_choose_its_own_sequence(identity: Identity) -> None:
    with pytest.raises(InvalidObservation, match=r"event\.sequence"):
        Enricher(identity).enrich(login_observation(fields={"event": {"sequence": 1}}))


def test_sensor_extras_are_kept_beside_the_system(identity: Identity) -> None:
    observation = login_observation(fields={"canhgac": {"auth": {"method": "password", "service": "sshd"}}})

    event = decode_event(Enricher(identity).enrich(observation).render(1))

    assert event.canhgac.auth is not None
    assert event.canhgac.auth.service == "sshd"
    assert event.canhgac.system.name == "Portal"


def test_sequence_is_monotonic_and_persisted_across_reopen(identity: Identity, tmp_path: Path) -> None:
    enricher = Enricher(identity)
    path = tmp_path / SPOOL_FILE
    spool = Spool(path, max_rows=100, max_bytes=10**6, policy="drop_oldest")
    spool.append([enricher.enrich(login_observation(f"u{n}")) for n in range(3)])
    spool.close()
    spool = Spool(path, max_rows=100, max_bytes=10**6, policy="drop_oldest")
    spool.append([enricher.enrich(login_observation("after-restart"))])

    events = [decode_event(row.payload) for row in spool.read(10)]

    assert [event.event.sequence for event in events] == [1, 2, 3, 4]
    last = events[-1]
    assert isinstance(last, AuthenticationEvent)
    assert last.user is not None
    assert last.user.name == "after-restart"
