"""Checking observations the way the runtime will: enriched into a contract event and validated."""

from __future__ import annotations

from agent.enrich import Enricher
from agent.identity import Identity
from agent.sensors.base import Observation
from event_contract import Event, decode_event
from event_contract.wire_types import AgentInfoWire as AgentInfo
from event_contract.wire_types import HostInfoWire as HostInfo
from event_contract.wire_types import InformationSystemWire as InformationSystem
from event_contract.wire_types import OrganizationWire as Organization

_ENRICHER = Enricher(
    Identity(
        host=HostInfo(id="host-test", name="test-host"),
        agent=AgentInfo(id="agent-test", version="0.0.0"),
        organization=Organization(id="org-test", name="Test agency"),
        system=InformationSystem(name="Test system", security_level=3),
    )
)


def as_event(observation: Observation) -> Event:
    """The contract event the runtime would send; raises if the observation does not fit the contract."""
    return decode_event(_ENRICHER.enrich(observation).render(0))
