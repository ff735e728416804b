"""Bad input gets a 4xx naming what is wrong, never a 500."""

from __future__ import annotations

import pytest

from tests.unit.collector.api.api_support import Api


@pytest.mark.parametrize(
    ("query", "mentions"),
    [
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("offset=-1", "offset"),
        ("min_severity=high", "min_severity"),
        ("from=yesterday", "from"),
        ("from=2026-03-05T00:00:00Z&to=2026-03-04T00:00:00Z", "'from' must be earlier"),
        ("status=closed", "status"),
        ("q=", "q"),
    ],
)
async def test_bad_alert_filters_are_422_with_the_parameter(api: Api, query: str, mentions: str) -> None:
    async with api.client() as client:
        response = await client.get(f"/api/v1/alerts?{query}", headers=api.auth("analyst"))
    assert response.status_code == 422
    assert mentions in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        ("{not json", "JSON"),
        ('{"status": "done"}', "status"),
        ('{"status": "acknowledged", "colour": "red"}', "colour"),
        ("[]", "body"),
        ('{"status": null}', "status"),
    ],
)
async def test_bad_bodies_are_422_with_the_field(api: Api, body: str, mentions: str) -> None:
    headers = {**api.auth("analyst"), "Content-Type": "application/json"}
    async with api.client() as client:
        response = await client.post("/api/v1/incidents/inc-1/status", content=body, headers=headers)
    assert response.status_code == 422
    assert mentions in response.json()["detail"]


async def test_naive_times_are_taken_as_utc(api: Api) -> None:
    async with api.client() as client:
        response = await client.get(
            "/api/v1/alerts?from=2026-03-04T00:00:00&to=2026-03-05T00:00:00Z", headers=api.auth("analyst")
        )
    assert response.status_code == 200


async def test_ids_with_unexpected_characters_are_refused(api: Api) -> None:
    async with api.client() as client:
        response = await client.get("/api/v1/alerts/a%20b%3Cscript%3E", headers=api.auth("analyst"))
    assert response.status_code == 422
    assert "alert_id" in response.json()["detail"]


async def test_acknowledgement_needs_a_reason(api: Api) -> None:
    async with api.client() as client:
        response = await client.post("/api/v1/alerts/x/acknowledge", json={}, headers=api.auth("analyst"))
    assert response.status_code == 422
    assert "reason" in response.json()["detail"]
