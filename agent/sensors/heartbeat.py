"""The heartbeat: proof of life every ``interval_s`` with the agent's own health in ``canhgac.health``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from agent.sensors.base import Observation
from event_contract.datasets import Dataset
from event_contract.wire_types import AgentHealthWire as AgentHealth
from event_contract.wire_types import SensorHealthWire as SensorHealth

HealthReport = Callable[[], AgentHealth]
"""Gives the agent's health now: version is on the event itself, the rest is in the report."""


class HeartbeatSensor:
    """Yields one heartbeat at once, then one every ``interval_s``, until cancelled.

    ``report`` is called from the event loop and must not block; the runtime supplies it (sensor health,
    spool depth/bytes/dropped/policy, counters). The sensor holds no resources.
    """

    name = "heartbeat"

    def __init__(self, interval_s: float, report: HealthReport) -> None:
        self._interval_s = interval_s
        self._report = report
        self._sent = 0

    async def observe(self) -> AsyncIterator[Observation]:
        while True:
            health = self._report()
            self._sent += 1
            yield Observation(
                dataset=Dataset.HEARTBEAT,
                category=("host",),
                type=("info",),
                action="heartbeat",
                timestamp=datetime.now(UTC),
                fields={"canhgac": {"health": health}},
                message=_summary(health),
            )
            await asyncio.sleep(self._interval_s)

    def health(self) -> SensorHealth:
        return SensorHealth(status="ok", detail=f"{self._sent} heartbeats sent")


def _summary(health: AgentHealth) -> str:
    failing = sorted(name for name, sensor in health.sensors.items() if sensor.status != "ok")
    state = f"sensors not ok: {', '.join(failing)}" if failing else "all sensors ok"
    spool = health.spool
    return f"agent alive; {state}; spool depth {spool.depth}, dropped {spool.dropped}"
