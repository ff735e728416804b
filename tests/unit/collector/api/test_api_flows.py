from __future__ import annotations

from typing import Any

from collector.incidents.service import IncidentService
from collector.store import AuditFilter
from tests.unit.collector.api.api_support import Api, make_alert


async def seed(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    mine, theirs = make_alert("agency-a"), make_alert("agency-b")
    for alert in (mine, theirs):
        await api.store.create_alert(alert)
    await IncidentService(api.store).on_alerts([mine, theirs])
    return mine, theirs


async def test_alerts_are_listed_filtered_and_scoped(api: Api) -> None:
    mine, theirs = await seed(api)
    async with api.client() as client:
        everything = (await client.get("/api/v1/alerts", headers=api.auth("analyst"))).json()
        assert everything["total"] == 2
        scoped = (await client.get("/api/v1/alerts", headers=api.auth("responder_a"))).json()
        assert [item["id"] for item in scoped["items"]] == [mine["event"]["id"]]
        probing = await client.get("/api/v1/alerts?agency=agency-b", headers=api.auth("responder_a"))
        assert probing.status_code == 200
        assert probing.json()["total"] == 0
        text = await client.get("/api/v1/alerts?q=brute&min_severity=70", headers=api.auth("analyst"))
        assert text.json()["total"] == 2
        none = await client.get("/api/v1/alerts?q=ransomware", headers=api.auth("analyst"))
        assert none.json()["total"] == 0
        hidden = await client.get(f"/api/v1/alerts/{theirs['event']['id']}", headers=api.auth("responder_a"))
        assert hidden.status_code == 404


async def test_acknowledging_an_alert_records_who_and_why_once(api: Api) -> None:
    mine, _ = await seed(api)
    alert_id = mine["event"]["id"]
    async with api.client() as client:
        url = f"/api/v1/alerts/{alert_id}/acknowledge"
        done = await client.post(url, json={"reason": "known scanner"}, headers=api.auth("responder_a"))
        assert done.status_code == 200
        assert done.json()["status"] == "acknowledged"
        assert done.json()["acknowledged"]["by"] == "responder_a"
        again = await client.post(url, json={"reason": "me too"}, headers=api.auth("analyst"))
        assert again.status_code == 409
        assert again.json()["current"]["canhgac"]["alert"]["acknowledged"]["reason"] == "known scanner"
        listed = await client.get("/api/v1/alerts?status=acknowledged", headers=api.auth("viewer"))
        assert listed.json()["total"] == 1
    entries = await api.store.search_audit(AuditFilter(object_id=alert_id), 10)
    assert [entry["user"]["name"] for entry in entries] == ["responder_a"]


async def test_bulk_acknowledgement_reports_each_alert(api: Api) -> None:
    mine, theirs = await seed(api)
    second = make_alert("agency-a", minute=7)
    await api.store.create_alert(second)
    ids = [mine["event"]["id"], second["event"]["id"], theirs["event"]["id"], "no-such-alert"]
    async with api.client() as client:
        await client.post(
            f"/api/v1/alerts/{ids[1]}/acknowledge", json={"reason": "x"}, headers=api.auth("analyst")
        )
        response = await client.post(
            "/api/v1/alerts/acknowledge",
            json={"alert_ids": ids, "reason": "batch"},
            headers=api.auth("responder_a"),
        )
    assert response.status_code == 200
    outcomes = {item["alert_id"]: item["outcome"] for item in response.json()["results"]}
    assert outcomes == {ids[0]: "acknowledged", ids[1]: "conflict", ids[2]: "not_found", ids[3]: "not_found"}
    assert response.json()["acknowledged"] == 1


async def test_incident_lifecycle_through_the_api(api: Api) -> None:
    mine, _ = await seed(api)
    async with api.client() as client:
        listed = (await client.get("/api/v1/incidents", headers=api.auth("responder_a"))).json()
        assert listed["total"] == 1
        incident_id = listed["items"][0]["id"]
        detail = (await client.get(f"/api/v1/incidents/{incident_id}", headers=api.auth("viewer_a"))).json()
        assert [alert["id"] for alert in detail["alerts"]] == [mine["event"]["id"]]
        assert detail["incident"]["history"][0]["action"] == "created"
        base = f"/api/v1/incidents/{incident_id}"
        who = api.auth("responder_a")
        skipped = await client.post(f"{base}/status", json={"status": "resolved"}, headers=who)
        assert skipped.status_code == 409
        assert "allowed next: acknowledged, false_positive" in skipped.json()["detail"]
        for status in ("acknowledged", "investigating"):
            moved = await client.post(
                f"{base}/status", json={"status": status, "reason": "on it"}, headers=who
            )
            assert moved.status_code == 200, moved.text
        assigned = await client.post(f"{base}/assign", json={"assignee": "alice"}, headers=who)
        assert assigned.json()["assignee"] == "alice"
        commented = await client.post(f"{base}/comments", json={"text": "blocked the IP"}, headers=who)
        assert commented.json()["comments"][0]["text"] == "blocked the IP"
        resolved = await client.post(f"{base}/status", json={"status": "resolved"}, headers=who)
        assert resolved.json()["time_to_resolve_s"] is not None
        filtered = await client.get("/api/v1/incidents?status=resolved&assignee=alice", headers=who)
        assert filtered.json()["total"] == 1
        other = await client.post(f"{base}/comments", json={"text": "hi"}, headers=api.auth("responder_b"))
        assert other.status_code == 404
    actions = [
        e["event"]["action"] for e in await api.store.search_audit(AuditFilter(object_id=incident_id), 50)
    ]
    assert actions.count("incident.status_changed") == 3
    assert "incident.assigned" in actions
    assert "incident.commented" in actions


async def test_rules_agents_health_and_metrics(api: Api) -> None:
    async with api.client() as client:
        rules = (await client.get("/api/v1/rules", headers=api.auth("viewer"))).json()
        assert rules["failed"][0]["reason"].startswith("condition references")
        agents = await client.get("/api/v1/agents", headers=api.auth("viewer"))
        assert agents.json() == {"items": []}
        assert (await client.get("/api/v1/health/live")).json() == {"status": "ok"}
        ready = await client.get("/api/v1/health/ready")
        assert ready.json() == {"status": "ready", "checks": {"elasticsearch": True}}
        metrics = (await client.get("/metrics", headers=api.auth("viewer"))).text
        assert 'canhgac_api_requests_total{method="GET",route="/api/v1/rules",status="200"} 1.0' in metrics


async def test_tokens_are_created_listed_and_revoked_by_admins_only(api: Api) -> None:
    async with api.client() as client:
        created = await client.post(
            "/api/v1/tokens",
            json={"role": "responder", "agency": "agency-c", "name": "carol"},
            headers=api.auth("admin"),
        )
        assert created.status_code == 201
        secret, token_id = created.json()["token"], created.json()["id"]
        mine = {"Authorization": f"Bearer {secret}"}
        assert (await client.get("/api/v1/alerts", headers=mine)).status_code == 200
        listed = (await client.get("/api/v1/tokens", headers=api.auth("admin"))).json()
        assert all("sha256" not in token and "token" not in token for token in listed)
        assert (await client.get("/api/v1/tokens", headers=api.auth("analyst"))).status_code == 403
        unbound = await client.post(
            "/api/v1/tokens", json={"role": "responder", "name": "x"}, headers=api.auth("admin")
        )
        assert unbound.status_code == 422
        revoked = await client.post(f"/api/v1/tokens/{token_id}/revoke", headers=api.auth("admin"))
        assert revoked.json()["revoked_by"] == "admin"
        assert (await client.get("/api/v1/alerts", headers=mine)).status_code == 401
