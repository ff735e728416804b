"""A trickle of events is grouped: the spooling task lets a partial batch fill for a moment, and the
delivery loop waits a little after a partial batch, so fixed per-write and per-send costs are shared."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from agent.config import AgentConfig, validate_config
from agent.counters import Counters
from agent.delivery import DeliveryLoop
from agent.enrich import PendingEvent
from agent.identity import Identity
from agent.publisher import Acknowledgement
from agent.runtime import SPOOL_LINGER_S, AgentRuntime
from agent.sensors.base import Observation
from agent.spool import SPOOL_FILE, AppendResult, Spool, Spoolable, SpooledEvent
from agent.spool_thread import AsyncSpool
from event_contract.wire_types import SensorHealthWire as SensorHealth
from tests.unit.agent.runtime_fixtures import (
    RecordingPublisher,
    eventually,
    login_observation,
    minimal_document,
)
from tests.unit.agent.test_delivery_loop import FAST, Item, make_spool


class TimedPublisher(RecordingPublisher):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[tuple[float, list[int]]] = []

    async def publish(self, batch: Sequence[SpooledEvent]) -> Acknowledgement:
        self.batches.append((time.monotonic(), [row.sequence for row in batch]))
        return await super().publish(batch)


async def test_after_a_partial_batch_the_next_send_waits_for_the_linger(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    publisher = TimedPublisher()
    # A linger long beside the trickle below, so that a loaded machine's slow appends still fit in it.
    loop = DeliveryLoop(spool, publisher, Counters(), batch_size=100, backoff=FAST, linger_s=1.0)
    task = asyncio.create_task(loop.run())
    await spool.append([Item()])
    loop.wake()
    await eventually(lambda: len(publisher.batches) == 1)
    for _ in range(5):  # five rows trickle in during the linger: they leave together
        await spool.append([Item()])
        loop.wake()
        await asyncio.sleep(0.01)
    await eventually(lambda: len(publisher.delivered) == 6)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    (first_at, first), (second_at, second) = publisher.batches
    assert first == [1]
    assert second == [2, 3, 4, 5, 6]
    assert second_at - first_at >= 1.0


async def test_full_batches_and_draining_do_not_linger(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    await spool.append([Item() for _ in range(35)])
    publisher = TimedPublisher()
    loop = DeliveryLoop(spool, publisher, Counters(), batch_size=10, backoff=FAST, linger_s=5)

    loop.drain()
    await asyncio.wait_for(loop.run(), 2)  # four batches, the last partial: no 5 s pause anywhere

    assert [len(sequences) for _, sequences in publisher.batches] == [10, 10, 10, 5]


class CountingSpool(AsyncSpool):
    """Records how many events each append wrote."""

    def __init__(self, spool: Spool) -> None:
        super().__init__(spool)
        self.appends: list[int] = []

    async def append(self, items: Sequence[Spoolable]) -> AppendResult:
        self.appends.append(len(items))
        return await super().append(items)


class TricklingSensor:
    """``count`` logins, one every ``every_s``: slower than the queue is emptied."""

    name = "login"

    def __init__(self, count: int, every_s: float) -> None:
        self._count = count
        self._every_s = every_s

    async def observe(self) -> AsyncIterator[Observation]:
        for n in range(self._count):
            yield login_observation(f"user{n}")
            await asyncio.sleep(self._every_s)
        await asyncio.Event().wait()

    def health(self) -> SensorHealth:
        return SensorHealth(status="ok")


async def test_observations_trickling_in_are_spooled_together(
    agent_config: AgentConfig, identity: Identity
) -> None:
    path = agent_config.state_dir / SPOOL_FILE
    spool = CountingSpool(Spool(path, max_rows=10_000, max_bytes=10**8, policy="drop_oldest"))
    publisher = RecordingPublisher()
    sensor = TricklingSensor(40, SPOOL_LINGER_S / 8)
    runtime = AgentRuntime(agent_config, identity, [sensor], spool, publisher)
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))
    await eventually(lambda: len(publisher.delivered) >= 41)  # with the start-up heartbeat
    stop.set()
    await asyncio.wait_for(task, 10)

    assert sum(spool.appends) == 41
    assert len(spool.appends) <= 41 // 3  # one write per event would be 41
    assert [row.sequence for row in publisher.delivered] == list(range(1, 42))


class GatedSpool(AsyncSpool):
    """Holds its first append until ``gate`` is set, recording the first sequence of every append."""

    def __init__(self, spool: Spool) -> None:
        super().__init__(spool)
        self.gate = asyncio.Event()
        self.first_held = asyncio.Event()
        self.firsts: list[int] = []
        self.held = 0

    async def append(self, items: Sequence[Spoolable]) -> AppendResult:
        if not self.first_held.is_set():
            self.held = len(items)
            self.first_held.set()
            await self.gate.wait()
        result = await super().append(items)
        self.firsts.append(result.first_sequence)
        return result


async def test_the_next_batch_is_enriched_while_the_previous_one_is_written(
    tmp_path: Path, identity: Identity
) -> None:
    config = validate_config(
        minimal_document(tmp_path / "state", heartbeat={"interval_s": 3600}, pipeline={"spool_batch": 10})
    )
    spool = GatedSpool(
        Spool(config.state_dir / SPOOL_FILE, max_rows=10_000, max_bytes=10**8, policy="drop_oldest")
    )
    publisher = RecordingPublisher()
    runtime = AgentRuntime(config, identity, [TricklingSensor(40, 0)], spool, publisher)
    enrich, enriched = runtime._enricher.enrich, [0]

    def counting(observation: Observation) -> PendingEvent:
        enriched[0] += 1
        return enrich(observation)

    runtime._enricher.enrich = counting  # type: ignore[method-assign]
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))
    await spool.first_held.wait()
    # The held write has the first batch; the next one is enriched meanwhile, but no more than that.
    await eventually(lambda: enriched[0] >= spool.held + 10)  # fails if enrichment waits for the write
    await asyncio.sleep(0.1)
    assert enriched[0] == spool.held + 10
    spool.gate.set()
    await eventually(lambda: len(publisher.delivered) >= 41)
    stop.set()
    await asyncio.wait_for(task, 10)

    assert [row.sequence for row in publisher.delivered] == list(range(1, 42))
    assert spool.firsts == sorted(spool.firsts)
