"""One contract, two stores: every test runs over the in-memory store and the real Elasticsearch store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from collector.store import (
    AlertFilter,
    AlreadyExists,
    AuditFilter,
    IncidentFilter,
    Store,
    VersionConflict,
)
from collector.store.memory import InMemoryStore
from tests.integration.test_api_support import T0, elastic_store, index_alerts, make_alert


@pytest.fixture(params=["memory", pytest.param("elasticsearch", marks=pytest.mark.integration)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        yield InMemoryStore()
        return
    stack = request.getfixturevalue("stack")
    async with elastic_store(stack.es) as elastic:
        yield elastic


def incident(incident_id: str, **fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": incident_id,
        "title": "SSH brute force on web01",
        "status": "new",
        "priority": "P2",
        "organization": {"id": "agency-a"},
        "host": {"id": "host-1"},
        "rule": {"id": "rule-ssh"},
        "assignee": None,
        "created": T0.isoformat(),
    }
    document.update(fields)
    return document


async def test_incidents_are_created_once_and_replaced_only_from_the_version_read(store: Store) -> None:
    created = await store.create_incident(incident("inc-1"))
    with pytest.raises(AlreadyExists):
        await store.create_incident(incident("inc-1", title="again"))
    read = await store.get_incident("inc-1")
    assert read is not None
    assert read.source["title"] == "SSH brute force on web01"
    assert (read.seq_no, read.primary_term) == (created.seq_no, created.primary_term)
    updated = await store.replace_incident(read, {**read.source, "status": "acknowledged"})
    assert updated.seq_no > read.seq_no
    with pytest.raises(VersionConflict):
        await store.replace_incident(read, {**read.source, "status": "false_positive"})
    final = await store.get_incident("inc-1")
    assert final is not None
    assert final.source["status"] == "acknowledged"
    assert await store.get_incident("inc-404") is None


async def test_incident_search_filters_scope_and_order(store: Store) -> None:
    await store.create_incident(incident("inc-a1", created=(T0 + timedelta(minutes=1)).isoformat()))
    await store.create_incident(
        incident("inc-a2", status="resolved", assignee="alice", priority="P1", title="Malware dropped",
                 created=(T0 + timedelta(minutes=2)).isoformat())
    )  # fmt: skip
    await store.create_incident(incident("inc-b1", organization={"id": "agency-b"}))
    everything = await store.search_incidents(IncidentFilter(), 10)
    assert everything.total == 3
    assert [item.id for item in everything.items][:2] == ["inc-a2", "inc-a1"]

    async def ids(**where: Any) -> list[str]:
        page = await store.search_incidents(IncidentFilter(**where), 10)
        return sorted(item.id for item in page.items)

    assert await ids(agencies=frozenset({"agency-a"})) == ["inc-a1", "inc-a2"]
    assert await ids(agencies=frozenset({"agency-a"}), agency="agency-b") == []
    assert await ids(agencies=frozenset()) == []
    assert await ids(statuses=frozenset({"resolved", "acknowledged"})) == ["inc-a2"]
    assert await ids(assignee="alice", priority="P1") == ["inc-a2"]
    assert await ids(text="malware") == ["inc-a2"]
    assert await ids(since=T0 + timedelta(minutes=2)) == ["inc-a2"]
    assert await ids(until=T0 + timedelta(minutes=2)) == ["inc-a1", "inc-b1"]
    page = await store.search_incidents(IncidentFilter(), 1, offset=1)
    assert page.total == 3
    assert [item.id for item in page.items] == ["inc-a1"]


async def test_alerts_are_found_by_id_and_replaced_conditionally(store: Store) -> None:
    alert = make_alert()
    alert_id = alert["event"]["id"]
    await index_alerts(store, alert)  # type: ignore[arg-type]
    with pytest.raises(AlreadyExists):
        await store.create_alert(alert)
    hinted = await store.get_alert(alert_id, hint=T0 + timedelta(minutes=5))
    found = await store.get_alert(alert_id)
    assert found is not None
    assert hinted is not None
    assert found.index.startswith(store.names.alerts_pattern[:-1])  # type: ignore[attr-defined]
    assert found.source == alert
    acknowledged = {
        **alert,
        "canhgac": {**alert["canhgac"], "alert": {**alert["canhgac"]["alert"], "status": "acknowledged"}},
    }
    await store.replace_alert(found, acknowledged)
    with pytest.raises(VersionConflict):
        await store.replace_alert(found, alert)
    again = await store.get_alert(alert_id)
    assert again is not None
    assert again.source["canhgac"]["alert"]["status"] == "acknowledged"
    assert await store.get_alert("no-such-alert") is None


async def test_alert_search_filters_match_between_stores(store: Store) -> None:
    a1 = make_alert("agency-a", minute=1, level="low")
    a2 = make_alert("agency-a", minute=2, level="critical", host="host-2")
    b1 = make_alert("agency-b", minute=3, rule="rule-sudo")
    b1["message"] = "Sudo to root: unexpected escalation"
    await index_alerts(store, a1, a2, b1)  # type: ignore[arg-type]

    async def ids(**where: Any) -> list[str]:
        page = await store.search_alerts(AlertFilter(**where), 10)
        return [item.id for item in page.items]

    assert await ids() == [b1["event"]["id"], a2["event"]["id"], a1["event"]["id"]]  # newest first
    assert await ids(agencies=frozenset({"agency-a"}), agency="agency-b") == []
    assert await ids(agencies=frozenset()) == []
    assert await ids(agency="agency-b") == [b1["event"]["id"]]
    assert await ids(host="agency-a-host-2") == [a2["event"]["id"]]
    assert await ids(rule="rule-sudo") == [b1["event"]["id"]]
    assert await ids(min_severity=90) == [a2["event"]["id"]]
    assert await ids(since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=3)) == [a2["event"]["id"]]
    assert await ids(text="escalation") == [b1["event"]["id"]]
    assert await ids(ids=frozenset({a1["event"]["id"], "missing"})) == [a1["event"]["id"]]
    assert await ids(status="acknowledged") == []
    assert (await store.search_alerts(AlertFilter(), 2, offset=2)).total == 3


async def test_audit_is_append_only_and_replays_do_not_duplicate(store: Store) -> None:
    def entry(entry_id: str, minute: int, object_id: str) -> dict[str, Any]:
        return {
            "@timestamp": (T0 + timedelta(minutes=minute)).isoformat(),
            "event": {"id": entry_id, "action": "incident.status_changed"},
            "user": {"name": "alice"},
            "canhgac": {"audit": {"object_id": object_id}},
        }

    await store.append_audit(entry("e2", 2, "inc-1"))
    await store.append_audit(entry("e1", 1, "inc-1"))
    await store.append_audit(entry("e3", 3, "inc-2"))
    with pytest.raises(AlreadyExists):
        await store.append_audit(entry("e1", 1, "inc-1"))
    found = await store.search_audit(AuditFilter(object_id="inc-1"), 10)
    assert [item["event"]["id"] for item in found] == ["e1", "e2"]
    assert len(await store.search_audit(AuditFilter(actor="alice"), 10)) == 3
    assert not hasattr(store, "delete_audit")
    assert not hasattr(store, "replace_audit")


async def test_agents_are_upserted_and_listed_by_agency(store: Store) -> None:
    def agent(agent_id: str, agency: str, seen: str) -> dict[str, Any]:
        return {
            "agent": {"id": agent_id},
            "organization": {"id": agency},
            "last_seen": seen,
            "status": "online",
        }

    first = await store.put_agent(None, agent("ag-1", "agency-a", T0.isoformat()))
    with pytest.raises(AlreadyExists):
        await store.put_agent(None, agent("ag-1", "agency-a", T0.isoformat()))
    await store.put_agent(first, agent("ag-1", "agency-a", (T0 + timedelta(seconds=30)).isoformat()))
    with pytest.raises(VersionConflict):
        await store.put_agent(first, agent("ag-1", "agency-a", T0.isoformat()))
    await store.put_agent(None, agent("ag-2", "agency-b", T0.isoformat()))
    assert [item.id for item in await store.list_agents(None, 10)] == ["ag-1", "ag-2"]
    assert [item.id for item in await store.list_agents(frozenset({"agency-b"}), 10)] == ["ag-2"]
    assert await store.list_agents(frozenset(), 10) == []
    current = await store.get_agent("ag-1")
    assert current is not None
    assert current.source["last_seen"] == (T0 + timedelta(seconds=30)).isoformat()


async def test_tokens_round_trip(store: Store) -> None:
    token = {"id": "tok1", "name": "alice", "role": "responder", "agency": "agency-a", "sha256": "ab" * 32}
    created = await store.create_token(token)
    with pytest.raises(AlreadyExists):
        await store.create_token(token)
    await store.replace_token(created, {**token, "revoked_at": T0.isoformat()})
    with pytest.raises(VersionConflict):
        await store.replace_token(created, token)
    read = await store.get_token("tok1")
    assert read is not None
    assert read.source["revoked_at"] == T0.isoformat()
    assert [item.id for item in await store.list_tokens(10)] == ["tok1"]
