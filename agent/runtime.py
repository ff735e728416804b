"""Wiring: sensors → bounded queue → enrich → spool → delivery loop → Kafka; start and stop.

Back-pressure: sensors await ``queue.put``, so when the spool cannot keep up they slow down rather than
fill memory. Failures stay local: a sensor that raises is restarted with backoff and reported ``failed``
meanwhile; an invalid observation is counted and logged and the others go on; a spool write that fails
is retried with the same events, so nothing in hand is lost.

Stop (``stop`` event set, e.g. by SIGTERM): sensors are cancelled, what is queued is spooled, then the
delivery loop drains the spool for at most ``pipeline.drain_timeout_s``; whatever is left stays in the
spool for the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Sequence
from operator import itemgetter

from agent.batch_queue import BatchQueue
from agent.config import AgentConfig
from agent.counters import Counters
from agent.delivery import Backoff, DeliveryLoop
from agent.enrich import Enricher, InvalidObservation, PendingEvent
from agent.identity import Identity
from agent.publisher import Publisher
from agent.sensors.base import Observation, Sensor
from agent.sensors.heartbeat import HeartbeatSensor
from agent.spool_thread import AsyncSpool
from event_contract.wire_types import AgentHealthWire as AgentHealth
from event_contract.wire_types import SensorHealthWire as SensorHealth
from event_contract.wire_types import SpoolHealthWire as SpoolHealth

log = logging.getLogger(__name__)

_END = None
"""Put on the queue after the sensors stopped: the spooling task finishes what is before it and returns."""

SPOOL_LINGER_S = 0.05
"""How long the spooling task lets a partial batch fill before writing it. Each write is a transaction
with an fsync on the spool's thread, and each costs several thread and event-loop wake-ups, which on a
small virtual machine cost ~100 µs of CPU each: at a steady 1,000 observations/s, one observation per
write cost ~450 µs of CPU per event. 50 ms batches make that a small share, at 50 ms of added latency
(only while events keep coming: the first after a quiet spell waits the same, the linger bounds it)."""


class AgentRuntime:
    """Runs the given sensors plus a heartbeat until ``stop`` is set. One instance runs once."""

    def __init__(
        self,
        config: AgentConfig,
        identity: Identity,
        sensors: Sequence[Sensor],
        spool: AsyncSpool,
        publisher: Publisher,
        counters: Counters | None = None,
        sensor_backoff: Backoff | None = None,
    ) -> None:
        self._config = config
        self._counters = counters or Counters()
        self._spool = spool
        self._enricher = Enricher(identity)
        self._queue: BatchQueue[tuple[str, Observation] | None] = BatchQueue(config.pipeline.queue_size)
        self._delivery = DeliveryLoop(spool, publisher, self._counters, config.pipeline.send_batch)
        heartbeat = HeartbeatSensor(config.heartbeat.interval_s, self.health)
        self._sensors: list[Sensor] = [*sensors, heartbeat]
        self._sensor_faults: dict[str, str] = {}
        self._sensor_backoff = sensor_backoff or Backoff(initial_s=1.0, maximum_s=60.0)

    @property
    def counters(self) -> Counters:
        return self._counters

    def health(self) -> AgentHealth:
        """The figures a heartbeat carries. Never blocks."""
        sensors: dict[str, SensorHealth] = {}
        for sensor in self._sensors:
            fault = self._sensor_faults.get(sensor.name)
            sensors[sensor.name] = (
                SensorHealth(status="failed", detail=fault) if fault else _safe_health(sensor)
            )
        stats = self._spool.stats
        counters = self._counters.snapshot()
        counters["queue.depth"] = len(self._queue)
        counters["kafka.connected"] = int(self._delivery.connected)
        return AgentHealth(
            interval_s=self._config.heartbeat.interval_s,
            sensors=sensors,
            spool=SpoolHealth(
                depth=stats.depth, bytes=stats.bytes, dropped=stats.dropped, policy=stats.policy
            ),
            counters=counters,
        )

    async def run(self, stop: asyncio.Event) -> None:
        log.info("agent starting", extra={"sensors": [sensor.name for sensor in self._sensors]})
        sensor_tasks = [
            asyncio.create_task(self._observe(sensor), name=f"sensor:{sensor.name}")
            for sensor in self._sensors
        ]
        spooling = asyncio.create_task(self._spool_observations(), name="spool")
        delivery = asyncio.create_task(self._delivery.run(), name="delivery")
        stopping = asyncio.create_task(stop.wait(), name="stop")
        try:
            done, _ = await asyncio.wait({stopping, spooling, delivery}, return_when=asyncio.FIRST_COMPLETED)
            for task in done - {stopping}:
                task.result()  # a pipeline task ending on its own is a bug: surface it
            log.info("agent stopping")
        finally:
            for task in sensor_tasks:
                task.cancel()
            await asyncio.gather(*sensor_tasks, return_exceptions=True)
            await self._finish_spooling(spooling)
            await self._drain(delivery)
            stopping.cancel()
            await self._spool.close()
            log.info("agent stopped", extra={"counters": self._counters.snapshot()})

    async def _observe(self, sensor: Sensor) -> None:
        failures = 0
        queue, name = self._queue, sensor.name
        while True:
            try:
                async for observation in sensor.observe():
                    # Counted as ``<sensor>.observed`` when the spooling task takes it: once per batch.
                    if not queue.put_nowait((name, observation)):
                        await queue.put((name, observation))
                    if failures:
                        failures = 0
                        self._sensor_faults.pop(sensor.name, None)
                log.warning("sensor ended on its own", extra={"sensor": sensor.name})
                self._sensor_faults[sensor.name] = "ended"
                return
            except Exception as error:  # a sensor bug must not take the agent down
                failures += 1
                delay = self._sensor_backoff.after(failures)
                self._counters.add(f"{sensor.name}.errors")
                self._sensor_faults[sensor.name] = f"{type(error).__name__}: {error}"[:500]
                log.exception("sensor failed; restarting", extra={"sensor": sensor.name, "retry_in_s": delay})
                await asyncio.sleep(delay)

    async def _spool_observations(self) -> None:
        """Queue → enrich → spool, a batch at a time. The spool write of one batch (a transaction with
        its fsync, on the spool's thread) overlaps the enrichment of the next (CPU on this loop); writes
        still happen one after the other, in queue order, so sequence numbers follow the queue."""
        batch_size = self._config.pipeline.spool_batch
        writing: asyncio.Task[None] | None = None
        try:
            while True:
                await self._queue.wait()
                if len(self._queue) < batch_size:
                    await asyncio.sleep(SPOOL_LINGER_S)
                items = self._queue.take(batch_size)
                ended = items[-1] is _END  # put last, after every sensor stopped
                entries = [entry for entry in items if entry is not _END]
                self._count_observed(entries)
                pending = [self._enrich(*entry) for entry in entries]
                if writing is not None:
                    await writing
                writing = asyncio.create_task(self._append([event for event in pending if event is not None]))
                if ended:
                    await writing
                    return
        finally:
            if writing is not None and not writing.done():
                # Cancelled ourselves: the write in progress shares our fate, as when it was awaited inline.
                writing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await writing

    def _count_observed(self, items: list[tuple[str, Observation]]) -> None:
        """``<sensor>.observed`` for a batch taken from the queue: counted in C, not by a call per event."""
        for name, count in Counter(map(itemgetter(0), items)).items():
            self._counters.add(f"{name}.observed", count)

    def _enrich(self, sensor_name: str, observation: Observation) -> PendingEvent | None:
        try:
            return self._enricher.enrich(observation)
        except InvalidObservation as error:
            self._counters.add(f"{sensor_name}.invalid")
            log.warning("invalid observation dropped", extra={"sensor": sensor_name, "reason": error.reason})
            return None

    async def _append(self, events: list[PendingEvent]) -> None:
        failures = 0
        while events:
            try:
                result = await self._spool.append(events)
            except Exception as error:  # e.g. disk full: keep the events and retry
                failures += 1
                self._counters.add("spool.errors")
                log.error("spool write failed; retrying", extra={"error": repr(error)})
                await asyncio.sleep(Backoff().after(failures))
                continue
            self._counters.add("spool.spooled", result.spooled)
            if result.dropped:
                self._counters.add("spool.dropped", result.dropped)
                log.warning(
                    "spool full: events dropped",
                    extra={"dropped": result.dropped, "policy": self._spool.stats.policy},
                )
            self._delivery.wake()
            return

    async def _finish_spooling(self, spooling: asyncio.Task[None]) -> None:
        if spooling.done():
            return
        await self._queue.put(_END)
        try:
            await spooling
        except Exception:
            log.exception("spooling the last observations failed")

    async def _drain(self, delivery: asyncio.Task[None]) -> None:
        self._delivery.drain()
        try:
            await asyncio.wait_for(delivery, self._config.pipeline.drain_timeout_s)
        except TimeoutError:
            log.warning(
                "drain timed out; undelivered events stay in the spool",
                extra={"depth": self._spool.stats.depth},
            )
        except Exception:
            log.exception("delivery failed while draining")


def _safe_health(sensor: Sensor) -> SensorHealth:
    try:
        return sensor.health()
    except Exception as error:  # a broken health() must not break the heartbeat
        return SensorHealth(status="degraded", detail=f"health() failed: {error!r}"[:500])
