from __future__ import annotations

import pytest

from collector.api.ratelimit import FailureLimiter
from tests.unit.collector.api.api_support import Api


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer nonsense",
        "Basic dXNlcjpwYXNz",
        "Bearer cg_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ],
)
async def test_missing_or_unknown_tokens_get_401_without_detail(api: Api, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    async with api.client() as client:
        response = await client.get("/api/v1/alerts", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "unauthorized"}
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_tampered_secret_of_a_real_token_id_is_refused(api: Api) -> None:
    real = api.tokens["admin"]
    tampered = real[:-1] + ("A" if real[-1] != "A" else "B")
    async with api.client() as client:
        response = await client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {tampered}"})
    assert response.status_code == 401


async def test_wrong_role_gets_403(api: Api) -> None:
    async with api.client() as client:
        acting = await client.post(
            "/api/v1/incidents/inc-1/status", json={"status": "acknowledged"}, headers=api.auth("viewer")
        )
        administering = await client.get("/api/v1/tokens", headers=api.auth("responder_a"))
    assert acting.status_code == 403
    assert administering.status_code == 403
    assert acting.json() == {"detail": "forbidden"}


async def test_repeated_failures_are_rate_limited_for_that_address_only(api: Api) -> None:
    bad = {"Authorization": "Bearer guess"}
    async with api.client("192.0.2.66") as guesser, api.client("192.0.2.7") as colleague:
        codes = [(await guesser.get("/api/v1/alerts", headers=bad)).status_code for _ in range(8)]
        assert codes[:5] == [401] * 5
        assert codes[5:] == [429] * 3
        assert (await colleague.get("/api/v1/alerts", headers=bad)).status_code == 401
        assert (await colleague.get("/api/v1/alerts", headers=api.auth("viewer"))).status_code == 200
        metrics = (await colleague.get("/metrics", headers=api.auth("viewer"))).text
    assert 'canhgac_api_auth_failures_total{outcome="rate_limited"} 3.0' in metrics


def test_the_allowance_comes_back_over_time() -> None:
    now = [0.0]
    limiter = FailureLimiter(burst=2, refill_per_s=0.5, clock=lambda: now[0])
    limiter.record_failure("a")
    limiter.record_failure("a")
    assert limiter.blocked("a")
    assert not limiter.blocked("b")
    now[0] = 2.0  # one failure's worth refilled
    assert not limiter.blocked("a")
    limiter.record_failure("a")
    assert limiter.blocked("a")
