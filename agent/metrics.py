"""The agent's optional Prometheus endpoint (``metrics.enabled``; loopback by default).

Imported only when enabled, and written on the standard library alone: the agent is a guest on an agency
server and its memory budget is tight, so it carries no HTTP framework or metrics client. Every figure is
read at scrape time from what the agent already keeps for its heartbeat (:meth:`AgentRuntime.health`), so
an enabled endpoint costs nothing between scrapes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping

from event_contract.wire_types import AgentHealthWire as AgentHealth

log = logging.getLogger(__name__)

STATUSES = ("ok", "degraded", "failed", "disabled")
REQUEST_LIMIT = 8192
"""Bytes of request head read at most; a scraper's request is a few hundred."""
READ_TIMEOUT_S = 5.0

# Runtime counter name → (metric, help). Per-sensor counters are named ``<sensor>.<suffix>``.
TOTALS = {
    "spool.spooled": ("canhgac_agent_events_spooled_total", "Events written to the on-disk spool"),
    "kafka.delivered": ("canhgac_agent_events_delivered_total", "Events acknowledged by Kafka (acks=all)"),
    "spool.dropped": ("canhgac_agent_events_dropped_total", "Events dropped because the spool was full"),
    "spool.errors": ("canhgac_agent_spool_errors_total", "Spool writes that failed and were retried"),
}
KAFKA_ERRORS = {"kafka.errors": "send", "kafka.connect_errors": "connect"}
PER_SENSOR = {
    "observed": ("canhgac_agent_events_captured_total", "Observations captured, by sensor"),
    "invalid": ("canhgac_agent_events_invalid_total", "Observations dropped as invalid, by sensor"),
    "errors": ("canhgac_agent_sensor_errors_total", "Times a sensor failed and was restarted, by sensor"),
}


def render(health: AgentHealth) -> str:
    """The Prometheus text exposition (format 0.0.4) of one health snapshot."""
    counters = health.counters
    lines: list[str] = []

    def family(name: str, kind: str, text: str, samples: Iterable[tuple[Mapping[str, str], float]]) -> None:
        lines.extend((f"# HELP {name} {text}", f"# TYPE {name} {kind}"))
        for labels, value in samples:
            lines.append(f"{name}{_labels(labels)} {value:g}")

    for counter, (name, text) in TOTALS.items():
        family(name, "counter", text, [({}, counters.get(counter, 0))])
    family(
        "canhgac_agent_kafka_errors_total",
        "counter",
        "Failed Kafka sends and connection attempts",
        [({"kind": kind}, counters.get(counter, 0)) for counter, kind in KAFKA_ERRORS.items()],
    )
    family(
        "canhgac_agent_kafka_connected",
        "gauge",
        "1 while the producer is connected",
        [({}, counters.get("kafka.connected", 0))],
    )
    sensors = sorted(health.sensors)
    for suffix, (name, text) in PER_SENSOR.items():
        samples = [({"sensor": sensor}, counters.get(f"{sensor}.{suffix}", 0)) for sensor in sensors]
        family(name, "counter", text, samples)
    family(
        "canhgac_agent_sensor_status",
        "gauge",
        "1 for the sensor's current status (ok, degraded, failed, disabled), 0 for the others",
        [
            ({"sensor": sensor, "status": status}, int(health.sensors[sensor].status == status))
            for sensor in sensors
            for status in STATUSES
        ],
    )
    spool = health.spool
    family("canhgac_agent_spool_depth", "gauge", "Events waiting in the spool", [({}, spool.depth)])
    family("canhgac_agent_spool_bytes", "gauge", "Payload bytes waiting in the spool", [({}, spool.bytes)])
    family(
        "canhgac_agent_queue_depth",
        "gauge",
        "Observations in memory between sensors and spool",
        [({}, counters.get("queue.depth", 0))],
    )
    return "\n".join(lines) + "\n"


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items()) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


async def serve(health: Callable[[], AgentHealth], host: str, port: int) -> asyncio.Server:
    """Listen on ``host:port``; ``GET /metrics`` answers the current figures, anything else 404/405."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_S)
            method, target, *_ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            if method != "GET":
                status, body = "405 Method Not Allowed", "only GET\n"
            elif target.split("?", 1)[0] != "/metrics":
                status, body = "404 Not Found", "see /metrics\n"
            else:
                status, body = "200 OK", render(health())
            payload = body.encode()
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError, OSError):
            pass  # a broken or slow client gets nothing; the agent goes on
        except Exception:  # a bug in rendering must not take the agent down
            log.exception("metrics request failed")
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    server = await asyncio.start_server(answer, host, port, limit=REQUEST_LIMIT)
    log.info("metrics endpoint listening", extra={"host": host, "port": port})
    return server
