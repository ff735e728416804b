"""The agent's optional metrics endpoint: valid Prometheus text, loaded only when enabled."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families

from agent.config import validate_config
from agent.metrics import render, serve
from event_contract.wire_types import AgentHealthWire as AgentHealth
from event_contract.wire_types import SensorHealthWire as SensorHealth
from event_contract.wire_types import SpoolHealthWire as SpoolHealth


def health() -> AgentHealth:
    return AgentHealth(
        interval_s=60,
        sensors={
            "process": SensorHealth(status="ok"),
            'we"ird\\name': SensorHealth(status="failed", detail="boom"),
        },
        spool=SpoolHealth(depth=7, bytes=4096, dropped=3, policy="drop_oldest"),
        counters={
            "process.observed": 40,
            "process.invalid": 1,
            'we"ird\\name.errors': 2,
            "spool.spooled": 39,
            "spool.dropped": 3,
            "kafka.delivered": 32,
            "kafka.errors": 4,
            "kafka.connect_errors": 5,
            "kafka.connected": 1,
            "queue.depth": 2,
        },
    )


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_render_is_parseable_and_carries_every_figure() -> None:
    found = samples(render(health()))
    assert found[("canhgac_agent_events_captured_total", (("sensor", "process"),))] == 40
    assert found[("canhgac_agent_events_invalid_total", (("sensor", "process"),))] == 1
    assert found[("canhgac_agent_sensor_errors_total", (("sensor", 'we"ird\\name'),))] == 2
    assert found[("canhgac_agent_events_delivered_total", ())] == 32
    assert found[("canhgac_agent_events_dropped_total", ())] == 3
    assert found[("canhgac_agent_events_spooled_total", ())] == 39
    assert found[("canhgac_agent_kafka_errors_total", (("kind", "send"),))] == 4
    assert found[("canhgac_agent_kafka_errors_total", (("kind", "connect"),))] == 5
    assert found[("canhgac_agent_kafka_connected", ())] == 1
    assert found[("canhgac_agent_spool_depth", ())] == 7
    assert found[("canhgac_agent_spool_bytes", ())] == 4096
    assert found[("canhgac_agent_queue_depth", ())] == 2
    assert found[("canhgac_agent_sensor_status", (("sensor", "process"), ("status", "ok")))] == 1
    assert found[("canhgac_agent_sensor_status", (("sensor", "process"), ("status", "failed")))] == 0
    assert found[("canhgac_agent_sensor_status", (("sensor", 'we"ird\\name'), ("status", "failed")))] == 1


async def _request(port: int, head: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer


async def test_the_endpoint_answers_metrics_and_refuses_the_rest() -> None:
    server = await serve(health, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        ok = await _request(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        assert ok.startswith(b"HTTP/1.1 200 OK")
        assert b"canhgac_agent_spool_depth 7" in ok
        assert (await _request(port, b"GET / HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 404")
        assert (await _request(port, b"POST /metrics HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 405")
        # A client sending an endless head is cut off, and the endpoint still answers the next one.
        assert await _request(port, b"GET /metrics HTTP/1.1\r\n" + b"X: y\r\n" * 2000) == b""
        assert (await _request(port, b"GET /metrics HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 200")
    finally:
        server.close()
        await server.wait_closed()


def test_metrics_are_off_by_default_on_loopback_and_not_imported_when_off() -> None:
    config = validate_config(
        {
            "organization": {"id": "o", "name": "O"},
            "system": {"name": "S", "security_level": 1},
            "kafka": {"bootstrap": "k:9092"},
        }
    )
    assert config.metrics.enabled is False
    assert config.metrics.host == "127.0.0.1"
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, agent.cli, agent.service; print('agent.metrics' in sys.modules)"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert loaded.stdout.strip() == "False"
