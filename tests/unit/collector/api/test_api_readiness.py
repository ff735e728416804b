from __future__ import annotations

import asyncio

from collector.api.app import create_app
from collector.api.serve import kafka_reachable
from collector.api.settings import ApiSettings
from collector.store.memory import InMemoryStore
from tests.unit.collector.api.api_support import Api


async def test_kafka_check_needs_a_listening_broker() -> None:
    server = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        assert await kafka_reachable(f"127.0.0.1:1,127.0.0.1:{port}")()
    finally:
        server.close()
        await server.wait_closed()
    assert not await kafka_reachable(f"127.0.0.1:{port}", timeout_s=0.5)()
    assert not await kafka_reachable("not-a-host-port")()


async def test_ready_is_503_naming_the_failed_dependency() -> None:
    async def up() -> bool:
        return True

    async def down() -> bool:
        raise ConnectionError("refused")

    async def hangs() -> bool:
        await asyncio.sleep(60)
        return True

    settings = ApiSettings(readiness_timeout_s=0.2)
    app = create_app(settings, InMemoryStore(), readiness={"elasticsearch": up, "kafka": down, "slow": hangs})
    async with Api(app, InMemoryStore(), {}).client() as client:
        response = await client.get("/api/v1/health/ready")
        live = await client.get("/api/v1/health/live")
    assert response.status_code == 503
    assert response.json() == {
        "status": "not_ready",
        "checks": {"elasticsearch": True, "kafka": False, "slow": False},
    }
    assert live.status_code == 200
