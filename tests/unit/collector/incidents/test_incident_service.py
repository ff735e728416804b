from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from collector.incidents.actor import Actor
from collector.incidents.alert_document import alert_document
from collector.incidents.errors import StateConflict, UnknownObject
from collector.incidents.lifecycle import Status
from collector.incidents.service import IncidentService
from collector.store import AuditFilter, IncidentFilter, Versioned
from collector.store.memory import InMemoryStore

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
_ids = itertools.count()


class Clock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(minutes=30)

    def __call__(self) -> datetime:
        return self.now


def make_alert(
    minute: int = 5,
    *,
    level: str = "medium",
    host: str = "host-1",
    agency: str = "agency-a",
    security: int = 3,
) -> dict[str, Any]:
    return alert_document(
        alert_id=f"alert-{next(_ids)}",
        timestamp=T0 + timedelta(minutes=minute),
        created=T0 + timedelta(minutes=minute, seconds=2),
        rule={"id": "rule-ssh", "name": "SSH brute force"},
        level=level,
        summary="many failures",
        host={"id": host, "name": f"{host}.example"},
        organization={"id": agency, "name": agency.upper()},
        system={"name": "payroll", "security_level": security},
    )


STATUS_CHANGED = "incident.status_changed"
RESPONDER_A = Actor("alice", "responder", frozenset({"agency-a"}))
RESPONDER_B = Actor("bob", "responder", frozenset({"agency-b"}))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def service(store: InMemoryStore, clock: Clock) -> IncidentService:
    return IncidentService(store, window=timedelta(hours=1), clock=clock)


async def only_incident(store: InMemoryStore) -> Mapping[str, Any]:
    page = await store.search_incidents(IncidentFilter(), 10)
    assert page.total == 1
    return page.items[0].source


async def audit(store: InMemoryStore, object_id: str | None = None) -> list[Mapping[str, Any]]:
    return await store.search_audit(AuditFilter(object_id=object_id), 1000)


async def test_alerts_with_one_key_become_one_incident_with_reason_and_priority(
    service: IncidentService, store: InMemoryStore
) -> None:
    alerts = [make_alert(5), make_alert(20, level="high", security=4)]
    await service.on_alerts(alerts)
    incident = await only_incident(store)
    assert incident["alert_ids"] == sorted(a["event"]["id"] for a in alerts)
    assert incident["priority"] == "P1"
    assert "security-level-4" in incident["priority_reason"]
    assert "host.id=host-1" in incident["grouping"]["reason"]
    assert incident["grouping"]["key"] == {
        "organization.id": "agency-a",
        "host.id": "host-1",
        "rule.id": "rule-ssh",
    }
    assert incident["status"] == "new"
    assert incident["first_alert_at"].startswith("2026-03-04T10:05")
    # the alerts, when present in the store, point back at their incident
    for alert in alerts:
        await store.create_alert(alert)
    await service.on_alerts(alerts)
    linked = await store.get_alert(alerts[0]["event"]["id"])
    assert linked is not None
    assert linked.source["canhgac"]["alert"]["incident_id"] == incident["id"]


async def test_replaying_a_batch_changes_nothing(service: IncidentService, store: InMemoryStore) -> None:
    batch = [make_alert(5), make_alert(6), make_alert(7, host="host-2")]
    await service.on_alerts(batch)
    incidents_before = (await store.search_incidents(IncidentFilter(), 10)).items
    audit_before = await audit(store)
    await service.on_alerts(batch)
    await service.on_alerts(list(reversed(batch)))
    incidents_after = (await store.search_incidents(IncidentFilter(), 10)).items
    assert [i.source for i in incidents_after] == [i.source for i in incidents_before]
    assert [i.seq_no for i in incidents_after] == [i.seq_no for i in incidents_before]
    assert await audit(store) == audit_before
    assert len(incidents_after) == 2


async def test_alerts_in_another_window_open_another_incident(
    service: IncidentService, store: InMemoryStore
) -> None:
    await service.on_alerts([make_alert(5), make_alert(65)])
    assert (await store.search_incidents(IncidentFilter(), 10)).total == 2


async def test_a_more_urgent_alert_raises_the_priority_with_a_history_entry(
    service: IncidentService, store: InMemoryStore
) -> None:
    await service.on_alerts([make_alert(5, level="low")])
    assert (await only_incident(store))["priority"] == "P4"
    await service.on_alerts([make_alert(6, level="critical")])
    incident = await only_incident(store)
    assert incident["priority"] == "P1"
    assert incident["level"] == "critical"
    raised = [entry for entry in incident["history"] if entry["action"] == "priority_raised"]
    assert raised
    assert raised[0]["from_value"] == "P4"
    assert raised[0]["to_value"] == "P1"
    await service.on_alerts([make_alert(7, level="low")])
    assert (await only_incident(store))["priority"] == "P1"  # never lowered


async def walk_to(service: IncidentService, incident_id: str, *statuses: Status) -> None:
    for status in statuses:
        await service.change_status(incident_id, status, RESPONDER_A, f"to {status}")


async def test_lifecycle_records_times_and_audits_each_change(
    service: IncidentService, store: InMemoryStore, clock: Clock
) -> None:
    await service.on_alerts([make_alert(5)])
    incident_id = (await only_incident(store))["id"]
    clock.now += timedelta(minutes=3)
    await walk_to(service, incident_id, Status.ACKNOWLEDGED)
    clock.now += timedelta(minutes=10)
    await walk_to(service, incident_id, Status.INVESTIGATING, Status.RESOLVED)
    incident = await only_incident(store)
    assert incident["status"] == "resolved"
    assert incident["time_to_acknowledge_s"] == 180.0
    assert incident["time_to_resolve_s"] == 780.0
    changes = [
        e for e in await audit(store, incident_id) if e["event"]["action"] == "incident.status_changed"
    ]
    assert [(e["canhgac"]["audit"]["from_value"], e["canhgac"]["audit"]["to_value"]) for e in changes] == [
        ("new", "acknowledged"),
        ("acknowledged", "investigating"),
        ("investigating", "resolved"),
    ]
    assert {e["user"]["name"] for e in changes} == {"alice"}


async def test_a_transition_that_is_not_allowed_says_what_is(
    service: IncidentService, store: InMemoryStore
) -> None:
    await service.on_alerts([make_alert(5)])
    incident_id = (await only_incident(store))["id"]
    with pytest.raises(StateConflict, match="allowed next: acknowledged, false_positive") as refused:
        await service.change_status(incident_id, Status.RESOLVED, RESPONDER_A, None)
    assert refused.value.current["status"] == "new"
    assert len(await audit(store, incident_id)) == 1  # only the creation


async def test_a_new_alert_reopens_a_resolved_incident(
    service: IncidentService, store: InMemoryStore
) -> None:
    await service.on_alerts([make_alert(5)])
    incident_id = (await only_incident(store))["id"]
    await walk_to(service, incident_id, Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.RESOLVED)
    await service.on_alerts([make_alert(40)])
    incident = await only_incident(store)
    assert incident["status"] == "new"
    assert incident["reopen_count"] == 1
    assert incident["resolved_at"] is None
    assert incident["time_to_resolve_s"] is None
    assert incident["history"][-1]["action"] == "reopened"
    assert any(e["event"]["action"] == "incident.reopened" for e in await audit(store, incident_id))


async def test_a_false_positive_takes_new_alerts_without_reopening(
    service: IncidentService, store: InMemoryStore
) -> None:
    await service.on_alerts([make_alert(5)])
    incident_id = (await only_incident(store))["id"]
    await walk_to(service, incident_id, Status.FALSE_POSITIVE)
    await service.on_alerts([make_alert(40)])
    incident = await only_incident(store)
    assert incident["status"] == "false_positive"
    assert incident["alert_count"] == 2


async def test_another_agency_cannot_see_or_change_the_incident(
    service: IncidentService, store: InMemoryStore
) -> None:
    await service.on_alerts([make_alert(5)])
    incident_id = (await only_incident(store))["id"]
    with pytest.raises(UnknownObject):
        await service.get(incident_id, RESPONDER_B)
    with pytest.raises(UnknownObject):
        await service.change_status(incident_id, Status.ACKNOWLEDGED, RESPONDER_B, None)
    with pytest.raises(UnknownObject):
        await service.comment(incident_id, "hello", RESPONDER_B)
    assert (await only_incident(store))["status"] == "new"


class InterferingStore(InMemoryStore):
    """Runs ``interference`` just before the first conditional incident write: a concurrent writer."""

    def __init__(self) -> None:
        super().__init__()
        self.interference: Any = None

    async def replace_incident(self, current: Versioned, incident: Mapping[str, Any]) -> Versioned:
        if self.interference is not None:
            interfere, self.interference = self.interference, None
            await interfere()
        return await super().replace_incident(current, incident)


async def test_concurrent_status_change_loses_with_the_current_state() -> None:
    store = InterferingStore()
    service = IncidentService(store, clock=Clock())
    await service.on_alerts([make_alert(5)])
    incident_id = (await only_incident(store))["id"]
    rival = Actor("carol", "analyst", None)
    store.interference = lambda: service.change_status(incident_id, Status.ACKNOWLEDGED, rival, "mine")
    with pytest.raises(StateConflict, match="changed by someone else") as lost:
        await service.change_status(incident_id, Status.ACKNOWLEDGED, RESPONDER_A, "no, mine")
    assert lost.value.current["status"] == "acknowledged"
    incident = await only_incident(store)
    assert incident["history"][-1]["actor"] == "carol"
    changes = [
        e for e in await audit(store, incident_id) if e["event"]["action"] == "incident.status_changed"
    ]
    assert len(changes) == 1


async def test_a_comment_is_retried_over_a_concurrent_alert_addition() -> None:
    store = InterferingStore()
    service = IncidentService(store, clock=Clock())
    await service.on_alerts([make_alert(5)])
    incident_id = (await only_incident(store))["id"]
    store.interference = lambda: service.on_alerts([make_alert(9)])
    await service.comment(incident_id, "looking into it", RESPONDER_A)
    incident = await only_incident(store)
    assert incident["alert_count"] == 2
    assert [c["text"] for c in incident["comments"]] == ["looking into it"]


async def test_an_alert_that_cannot_be_grouped_does_not_hold_back_the_batch(
    service: IncidentService, store: InMemoryStore
) -> None:
    broken = make_alert(5)
    del broken["host"]
    await service.on_alerts([broken, make_alert(6)])
    incident = await only_incident(store)
    assert incident["alert_count"] == 1
    assert service.ungroupable == 1


async def test_a_change_based_on_a_status_no_longer_current_is_refused(
    service: IncidentService, store: InMemoryStore
) -> None:
    await service.on_alerts([make_alert(5)])
    incident_id = (await only_incident(store))["id"]
    await walk_to(service, incident_id, Status.ACKNOWLEDGED, Status.INVESTIGATING)
    with pytest.raises(StateConflict, match="not acknowledged as expected") as refused:
        await service.change_status(
            incident_id,
            Status.FALSE_POSITIVE,
            RESPONDER_A,
            "saw it acknowledged",
            expected=Status.ACKNOWLEDGED,
        )
    assert refused.value.current["status"] == "investigating"
    done = await service.change_status(
        incident_id, Status.RESOLVED, RESPONDER_A, "fixed", expected=Status.INVESTIGATING
    )
    assert done.status == Status.RESOLVED
