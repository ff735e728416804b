"""Running a sensor in a test: its observations collected in the background, waited for with a deadline."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from agent.sensors.base import Observation, Sensor


class StartableSensor(Sensor, Protocol):
    started: asyncio.Event


class Collected:
    def __init__(self) -> None:
        self.observations: list[Observation] = []
        self._arrived = asyncio.Event()

    def add(self, observation: Observation) -> None:
        self.observations.append(observation)
        self._arrived.set()

    async def wait_for(self, predicate: Callable[[Observation], bool], within_s: float) -> Observation:
        """The first collected observation matching ``predicate`` (already collected or arriving)."""
        async with asyncio.timeout(within_s):
            while True:
                for observation in self.observations:
                    if predicate(observation):
                        return observation
                self._arrived.clear()
                await self._arrived.wait()

    async def settle(self, quiet_s: float, within_s: float = 60) -> list[Observation]:
        """Everything collected once nothing new has arrived for ``quiet_s``."""
        async with asyncio.timeout(within_s):
            while True:
                count = len(self.observations)
                await asyncio.sleep(quiet_s)
                if len(self.observations) == count:
                    return list(self.observations)


@contextlib.asynccontextmanager
async def running(sensor: StartableSensor, start_timeout: float = 60) -> AsyncIterator[Collected]:
    """Runs ``sensor.observe()`` until the block ends (then cancels it, as the runtime does)."""
    collected = Collected()

    async def consume() -> None:
        async for observation in sensor.observe():
            collected.add(observation)

    task = asyncio.create_task(consume())
    started = asyncio.create_task(sensor.started.wait())
    await asyncio.wait({task, started}, timeout=start_timeout, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        started.cancel()
        task.result()  # raises what the sensor raised
        raise AssertionError("the sensor stopped before it started")
    if not started.done():
        started.cancel()
        task.cancel()
        raise AssertionError("the sensor did not start in time")
    try:
        yield collected
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
