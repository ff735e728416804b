"""Every endpoint × every role against the real Elasticsearch store: exactly the allowed answers.

Each role acts on objects of its own (seeded per role), so an answer never depends on the order the cases
run in: a 2xx means the role may do it, 401/403/404 that it may not, and nothing else is accepted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from collector.api.app import create_app
from collector.api.settings import ApiSettings
from collector.incidents.service import IncidentService
from collector.store.elastic import ElasticStore
from tests.integration.test_api_support import ROLES, elastic_store, issue_tokens, make_alert, refresh

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

CALLERS = ["anonymous", "garbage", "revoked", *ROLES]


@dataclass
class World:
    store: ElasticStore
    client: httpx.AsyncClient
    tokens: dict[str, str]
    alerts: dict[tuple[str, str, str], str]
    """(caller, agency, purpose) → alert id"""
    incidents: dict[tuple[str, str], str]
    """(caller, agency) → incident id"""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(stack: Any) -> AsyncIterator[World]:
    async with elastic_store(stack.es, refresh="false") as store:
        tokens = await issue_tokens(store)
        alerts: dict[tuple[str, str, str], str] = {}
        incidents: dict[tuple[str, str], str] = {}
        service = IncidentService(store)
        for caller in CALLERS:
            for agency in ("agency-a", "agency-b"):
                single = make_alert(agency, rule=f"rule-{caller}")
                bulk = make_alert(agency, rule=f"rule-{caller}", minute=6)
                for alert in (single, bulk):
                    await store.create_alert(alert)
                await service.on_alerts([single, bulk])
                alerts[(caller, agency, "single")] = single["event"]["id"]
                alerts[(caller, agency, "bulk")] = bulk["event"]["id"]
                incidents[(caller, agency)] = str(await _incident_of(store, single["event"]["id"]))
        await refresh(store)
        settings = ApiSettings(index_prefix=store.names.prefix, auth_failure_burst=10_000)
        app = create_app(settings, store)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            yield World(store, client, tokens, alerts, incidents)


async def _incident_of(store: ElasticStore, alert_id: str) -> str:
    alert = await store.get_alert(alert_id)
    assert alert is not None
    return str(alert.source["canhgac"]["alert"]["incident_id"])


def headers(world: World, caller: str) -> dict[str, str]:
    if caller == "anonymous":
        return {}
    if caller == "garbage":
        return {"Authorization": "Bearer cg_0000000000000000_" + "x" * 43}
    return {"Authorization": f"Bearer {world.tokens[caller]}"}


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict[str, Any] | None = None


def calls(world: World, caller: str, agency: str) -> dict[str, Call]:
    alert = world.alerts[(caller, agency, "single")]
    bulk = world.alerts[(caller, agency, "bulk")]
    incident = world.incidents[(caller, agency)]
    return {
        "list alerts": Call("GET", f"/api/v1/alerts?agency={agency}"),
        "get alert": Call("GET", f"/api/v1/alerts/{alert}"),
        "ack alert": Call("POST", f"/api/v1/alerts/{alert}/acknowledge", {"reason": "matrix"}),
        "bulk ack": Call("POST", "/api/v1/alerts/acknowledge", {"alert_ids": [bulk], "reason": "matrix"}),
        "list incidents": Call("GET", f"/api/v1/incidents?agency={agency}"),
        "get incident": Call("GET", f"/api/v1/incidents/{incident}"),
        "change status": Call("POST", f"/api/v1/incidents/{incident}/status", {"status": "acknowledged"}),
        "assign": Call("POST", f"/api/v1/incidents/{incident}/assign", {"assignee": caller}),
        "comment": Call("POST", f"/api/v1/incidents/{incident}/comments", {"text": "matrix"}),
        "agents": Call("GET", "/api/v1/agents"),
        "rules": Call("GET", "/api/v1/rules"),
        "metrics": Call("GET", "/metrics"),
        "list tokens": Call("GET", "/api/v1/tokens"),
        "create token": Call("POST", "/api/v1/tokens", {"role": "viewer", "name": f"made-by-{caller}"}),
        "live": Call("GET", "/api/v1/health/live"),
        "ready": Call("GET", "/api/v1/health/ready"),
    }


READS = {"list alerts", "get alert", "list incidents", "get incident", "agents", "rules", "metrics"}
ACTS = {"ack alert", "bulk ack", "change status", "assign", "comment"}
ADMIN = {"list tokens", "create token"}
SINGLE_OBJECT = {"get alert", "get incident", "ack alert", "change status", "assign", "comment"}
HOME = {"viewer_a": "agency-a", "responder_a": "agency-a", "responder_b": "agency-b"}


def expected(caller: str, endpoint: str, agency: str) -> int:
    if endpoint in {"live", "ready"}:
        return 200
    if caller in {"anonymous", "garbage", "revoked"}:
        return 401
    role = ROLES[caller][0]
    if endpoint in ADMIN:
        return (201 if endpoint == "create token" else 200) if role == "admin" else 403
    if endpoint in ACTS and role == "viewer":
        return 403
    foreign = caller in HOME and HOME[caller] != agency
    if foreign and endpoint in SINGLE_OBJECT:
        return 404
    return 200


@pytest.mark.parametrize("agency", ["agency-a", "agency-b"])
@pytest.mark.parametrize("caller", CALLERS)
async def test_every_endpoint_gives_exactly_the_allowed_answer(
    world: World, caller: str, agency: str
) -> None:
    answers = {}
    for endpoint, call in calls(world, caller, agency).items():
        response = await world.client.request(
            call.method, call.path, json=call.body, headers=headers(world, caller)
        )
        answers[endpoint] = response.status_code
        if response.status_code in (401, 403):
            assert response.json()["detail"] in {"unauthorized", "forbidden"}, endpoint
    assert answers == {endpoint: expected(caller, endpoint, agency) for endpoint in answers}


async def test_a_responder_never_sees_another_agency_through_lists_or_filters(world: World) -> None:
    own = headers(world, "responder_a")
    b_alert = world.alerts[("viewer", "agency-b", "single")]  # viewers cannot act: stays open
    b_incident = world.incidents[("viewer", "agency-b")]
    probes = [
        "/api/v1/alerts",
        "/api/v1/alerts?agency=agency-b",
        "/api/v1/alerts?host=agency-b-host-1",
        f"/api/v1/alerts?incident={b_incident}",
        "/api/v1/alerts?q=agency-b",
        "/api/v1/alerts?rule=rule-analyst",
        "/api/v1/incidents",
        "/api/v1/incidents?agency=agency-b",
        "/api/v1/incidents?host=agency-b-host-1",
        "/api/v1/incidents?rule=rule-analyst",
        "/api/v1/agents?agency=agency-b",
    ]
    for probe in probes:
        response = await world.client.get(probe, headers=own)
        assert response.status_code == 200, probe
        assert "agency-b" not in response.text, probe
    hidden = await world.client.get(f"/api/v1/alerts/{b_alert}", headers=own)
    missing = await world.client.get("/api/v1/alerts/alert-does-not-exist", headers=own)
    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert hidden.json()["detail"].replace(b_alert, "X") == missing.json()["detail"].replace(
        "alert-does-not-exist", "X"
    )
    bulk = await world.client.post(
        "/api/v1/alerts/acknowledge", json={"alert_ids": [b_alert], "reason": "probe"}, headers=own
    )
    assert bulk.json()["results"][0]["outcome"] == "not_found"
    assert "agency-b" not in bulk.text.replace(b_alert, "X")  # only the id the caller sent comes back
    untouched = await world.store.get_alert(b_alert)
    assert untouched is not None
    assert untouched.source["canhgac"]["alert"]["status"] == "open"
    for action, body in [
        ("status", {"status": "acknowledged"}),
        ("assign", {"assignee": "mallory"}),
        ("comments", {"text": "probe"}),
    ]:
        response = await world.client.post(f"/api/v1/incidents/{b_incident}/{action}", json=body, headers=own)
        assert response.status_code == 404, action
    incident = await world.store.get_incident(b_incident)
    assert incident is not None
    assert (incident.source["status"], incident.source["assignee"], incident.source["comments"]) == (
        "new",
        None,
        [],
    )
