"""Optimistic concurrency through the API on the real Elasticsearch store."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
import pytest

from collector.api.app import create_app
from collector.api.settings import ApiSettings
from collector.incidents.service import IncidentService
from collector.store import AuditFilter
from tests.integration.test_api_support import elastic_store, issue_tokens, make_alert, refresh

pytestmark = pytest.mark.integration


async def test_one_hundred_concurrent_acknowledgements_give_one_success(stack: Any) -> None:
    async with elastic_store(stack.es) as store:
        tokens = await issue_tokens(store, revoked=False)
        alert = make_alert("agency-a")
        await store.create_alert(alert)
        await refresh(store)
        alert_id = alert["event"]["id"]
        app = create_app(ApiSettings(index_prefix=store.names.prefix), store)
        callers = ["responder_a", "analyst", "admin"]
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api.test", timeout=60
        ) as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        f"/api/v1/alerts/{alert_id}/acknowledge",
                        json={"reason": f"attempt {n}"},
                        headers={"Authorization": f"Bearer {tokens[callers[n % 3]]}"},
                    )
                    for n in range(100)
                )
            )
        codes = sorted(response.status_code for response in responses)
        assert codes == [200] + [409] * 99
        winner = next(response.json() for response in responses if response.status_code == 200)
        for response in responses:
            if response.status_code == 409:
                assert (
                    response.json()["current"]["canhgac"]["alert"]["acknowledged"] == winner["acknowledged"]
                )
        await refresh(store)
        entries = await store.search_audit(AuditFilter(object_id=alert_id), 200)
        assert len(entries) == 1
        assert entries[0]["canhgac"]["audit"]["reason"] == winner["acknowledged"]["reason"]
        stored = await store.get_alert(alert_id)
        assert stored is not None
        assert stored.source["canhgac"]["alert"]["acknowledged"] == winner["acknowledged"]


async def test_concurrent_status_changes_never_overwrite_each_other(stack: Any) -> None:
    async with elastic_store(stack.es) as store:
        tokens = await issue_tokens(store, revoked=False)
        alert = make_alert("agency-a")
        await store.create_alert(alert)
        await IncidentService(store).on_alerts([alert])
        linked = await store.get_alert(alert["event"]["id"])
        assert linked is not None
        incident_id = linked.source["canhgac"]["alert"]["incident_id"]
        app = create_app(ApiSettings(index_prefix=store.names.prefix), store)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api.test", timeout=60
        ) as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        f"/api/v1/incidents/{incident_id}/status",
                        json={"status": status, "reason": who},
                        headers={"Authorization": f"Bearer {tokens[who]}"},
                    )
                    for who in ("responder_a", "analyst")
                    for status in ("acknowledged", "false_positive")
                    for _ in range(5)
                )
            )
        codes = [response.status_code for response in responses]
        assert set(codes) == {200, 409}
        # acknowledged -> false_positive is a legal next step, so two successes may follow each other;
        # what must never happen is a change made from a state its author did not see.
        await refresh(store)
        status_changed = AuditFilter(object_id=incident_id, action="incident.status_changed")
        changes = await store.search_audit(status_changed, 50)
        assert len(changes) == codes.count(200)
        chain = [(c["canhgac"]["audit"]["from_value"], c["canhgac"]["audit"]["to_value"]) for c in changes]
        assert chain[0][0] == "new"
        assert all(before[1] == after[0] for before, after in itertools.pairwise(chain))
        final = await store.get_incident(incident_id)
        assert final is not None
        assert final.source["status"] == chain[-1][1]
        history = final.source["history"]
        assert [(h["from_value"], h["to_value"]) for h in history if h["action"] == "status_changed"] == chain


async def test_twenty_concurrent_identical_status_changes_give_one_success(stack: Any) -> None:
    async with elastic_store(stack.es) as store:
        tokens = await issue_tokens(store, revoked=False)
        alert = make_alert("agency-a")
        await store.create_alert(alert)
        await IncidentService(store).on_alerts([alert])
        linked = await store.get_alert(alert["event"]["id"])
        assert linked is not None
        incident_id = linked.source["canhgac"]["alert"]["incident_id"]
        app = create_app(ApiSettings(index_prefix=store.names.prefix), store)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api.test", timeout=60
        ) as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        f"/api/v1/incidents/{incident_id}/status",
                        json={"status": "acknowledged", "reason": f"attempt {n}"},
                        headers={"Authorization": f"Bearer {tokens['analyst']}"},
                    )
                    for n in range(20)
                )
            )
        assert sorted(response.status_code for response in responses) == [200] + [409] * 19
        losers = [response.json() for response in responses if response.status_code == 409]
        assert all(loser["current"]["status"] == "acknowledged" for loser in losers)
