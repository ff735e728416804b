from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from collector.incidents.agents import SILENT_RULE_ID, AgentInventory
from collector.incidents.service import IncidentService
from collector.store import AlertFilter, IncidentFilter
from collector.store.memory import InMemoryStore
from event_contract import HeartbeatEvent, encode_event

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def heartbeat(agent_id: str, at: datetime, *, sequence: int = 1, depth: int = 0) -> HeartbeatEvent:
    return HeartbeatEvent.model_validate(
        {
            "@timestamp": at.isoformat(),
            "event": {
                "id": f"{agent_id}-{sequence}",
                "kind": "state",
                "category": ["host"],
                "type": ["info"],
                "dataset": "canhgac.heartbeat",
                "sequence": sequence,
            },
            "host": {"id": f"host-{agent_id}", "name": f"{agent_id}.example"},
            "agent": {"id": agent_id, "version": "0.1.0"},
            "organization": {"id": "agency-a", "name": "Agency A"},
            "canhgac": {
                "system": {"name": "payroll", "security_level": 4},
                "health": {
                    "interval_s": 30,
                    "sensors": {"process": {"status": "ok"}, "file_integrity": {"status": "degraded"}},
                    "spool": {"depth": depth},
                },
            },
        }
    )


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def inventory(store: InMemoryStore) -> AgentInventory:
    return AgentInventory(store, IncidentService(store), silence_multiple=3.0)


async def test_heartbeats_keep_the_latest_state_per_agent(
    inventory: AgentInventory, store: InMemoryStore
) -> None:
    import orjson

    as_dict: dict[str, Any] = orjson.loads(encode_event(heartbeat("a1", T0 + timedelta(seconds=30), depth=7)))
    await inventory.on_heartbeats([heartbeat("a1", T0), as_dict, heartbeat("a2", T0)])
    agent = await store.get_agent("a1")
    assert agent is not None
    assert agent.source["last_seen"] == (T0 + timedelta(seconds=30)).isoformat()
    assert agent.source["spool"]["depth"] == 7
    assert agent.source["health"]["file_integrity"]["status"] == "degraded"
    assert agent.source["organization"]["id"] == "agency-a"
    assert agent.source["status"] == "online"
    # an older heartbeat (replayed, or late from a spool) never moves last_seen back
    await inventory.on_heartbeats([heartbeat("a1", T0 + timedelta(seconds=10), depth=1)])
    again = await store.get_agent("a1")
    assert again is not None
    assert again.source["spool"]["depth"] == 7


async def test_a_silent_agent_raises_one_alert_and_incident_per_silence(
    inventory: AgentInventory, store: InMemoryStore
) -> None:
    await inventory.on_heartbeats([heartbeat("a1", T0), heartbeat("a2", T0 + timedelta(seconds=80))])
    now = T0 + timedelta(seconds=91)  # a1: 91 s > 3 x 30 s; a2: 11 s
    raised = await inventory.check_silent_agents(now)
    assert [alert["agent"]["id"] for alert in raised] == ["a1"]
    assert raised[0]["rule"]["id"] == SILENT_RULE_ID
    assert await inventory.check_silent_agents(now + timedelta(seconds=5)) == []
    alerts = await store.search_alerts(AlertFilter(rule=SILENT_RULE_ID), 10)
    assert alerts.total == 1
    incidents = await store.search_incidents(IncidentFilter(rule=SILENT_RULE_ID), 10)
    assert incidents.total == 1
    assert incidents.items[0].source["priority"] == "P1"
    silent = await store.get_agent("a1")
    assert silent is not None
    assert silent.source["status"] == "silent"
    assert silent.source["silence"]["alert_id"] == raised[0]["event"]["id"]


async def test_an_agent_that_returns_and_falls_silent_again_raises_a_new_alert(
    inventory: AgentInventory, store: InMemoryStore
) -> None:
    await inventory.on_heartbeats([heartbeat("a1", T0)])
    first = await inventory.check_silent_agents(T0 + timedelta(minutes=2))
    back = T0 + timedelta(minutes=3)
    await inventory.on_heartbeats([heartbeat("a1", back, sequence=2)])
    agent = await store.get_agent("a1")
    assert agent is not None
    assert agent.source["status"] == "online"
    second = await inventory.check_silent_agents(back + timedelta(minutes=2))
    assert len(first) == len(second) == 1
    assert first[0]["event"]["id"] != second[0]["event"]["id"]


async def test_a_non_heartbeat_is_refused_with_the_reason(inventory: AgentInventory) -> None:
    with pytest.raises(ValueError, match=r"event\.dataset"):
        await inventory.on_heartbeats([{"event": {"dataset": "canhgac.nope"}}])


async def test_a_check_cut_short_before_the_incident_is_finished_by_the_next_even_after_a_heartbeat(
    inventory: AgentInventory, store: InMemoryStore
) -> None:
    await inventory.on_heartbeats([heartbeat("a1", T0)])
    raised = await inventory.check_silent_agents(T0 + timedelta(minutes=2))
    # As a check killed right after creating the alert leaves things: the alert, no incident, the
    # agent not marked silent.
    alert = dict(raised[0])
    alert["canhgac"] = {**alert["canhgac"], "alert": {**alert["canhgac"]["alert"], "incident_id": None}}
    cut_short = InMemoryStore()
    await cut_short.create_alert(alert)
    survivor = AgentInventory(cut_short, IncidentService(cut_short), silence_multiple=3.0)
    # The agent speaks again before the next check: that check no longer meets its silence.
    await survivor.on_heartbeats([heartbeat("a1", T0 + timedelta(minutes=3), sequence=2)])

    assert await survivor.check_silent_agents(T0 + timedelta(minutes=3, seconds=10)) == []

    incidents = await cut_short.search_incidents(IncidentFilter(rule=SILENT_RULE_ID), 10)
    assert incidents.total == 1
    assert incidents.items[0].source["alert_ids"] == [alert["event"]["id"]]
    linked = await cut_short.get_alert(alert["event"]["id"])
    assert linked is not None
    assert linked.source["canhgac"]["alert"]["incident_id"] == incidents.items[0].id
