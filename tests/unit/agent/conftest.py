"""Fixtures for the agent's runtime tests: a valid configuration and an identity."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import AgentConfig, validate_config
from agent.identity import Identity
from event_contract.wire_types import AgentInfoWire as AgentInfo
from event_contract.wire_types import HostInfoWire as HostInfo
from event_contract.wire_types import InformationSystemWire as InformationSystem
from event_contract.wire_types import OrganizationWire as Organization
from tests.unit.agent.runtime_fixtures import minimal_document


@pytest.fixture
def agent_config(tmp_path: Path) -> AgentConfig:
    return validate_config(
        minimal_document(tmp_path / "state", heartbeat={"interval_s": 3600}, pipeline={"drain_timeout_s": 2})
    )


@pytest.fixture
def identity() -> Identity:
    return Identity(
        host=HostInfo(id="host-1", name="web-01", ip=["10.0.0.5"]),
        agent=AgentInfo(id="agent-1", version="0.1.0"),
        organization=Organization(id="org-1", name="Org One"),
        system=InformationSystem(name="Portal", security_level=4),
    )
