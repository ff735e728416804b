"""The delivery loop: in order, delete only after acknowledgement, keep and retry on failure."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from agent.counters import Counters
from agent.delivery import Backoff, DeliveryLoop
from agent.spool import SPOOL_FILE, Spool
from agent.spool_thread import AsyncSpool
from tests.unit.agent.runtime_fixtures import RecordingPublisher, eventually

FAST = Backoff(initial_s=0.01, maximum_s=0.02)


@dataclass(frozen=True)
class Item:
    key: bytes = b"host-1"
    droppable: bool = False

    def render(self, sequence: int) -> bytes:
        return str(sequence).encode()


def make_spool(tmp_path: Path) -> AsyncSpool:
    return AsyncSpool(Spool(tmp_path / SPOOL_FILE, max_rows=10_000, max_bytes=10**8, policy="drop_oldest"))


async def drain(loop: DeliveryLoop) -> None:
    loop.drain()
    await asyncio.wait_for(loop.run(), 5)


async def test_everything_is_delivered_in_order_and_then_deleted(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    await spool.append([Item() for _ in range(25)])
    publisher = RecordingPublisher()
    counters = Counters()

    await drain(DeliveryLoop(spool, publisher, counters, batch_size=10, backoff=FAST))

    assert [row.sequence for row in publisher.delivered] == list(range(1, 26))
    assert spool.stats.depth == 0
    assert counters.get("kafka.delivered") == 25


async def test_unreachable_kafka_keeps_rows_and_retries_until_it_connects(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    await spool.append([Item() for _ in range(3)])
    publisher = RecordingPublisher(refuse_starts=3)
    counters = Counters()

    await drain(DeliveryLoop(spool, publisher, counters, batch_size=10, backoff=FAST))

    assert publisher.starts == 4
    assert counters.get("kafka.connect_errors") == 3
    assert [row.sequence for row in publisher.delivered] == [1, 2, 3]


async def test_partial_acknowledgement_deletes_the_prefix_and_resends_the_rest(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    await spool.append([Item() for _ in range(6)])
    publisher = RecordingPublisher()
    publisher.fail_after = 2
    loop = DeliveryLoop(spool, publisher, Counters(), batch_size=10, backoff=FAST)

    await drain(loop)

    # 1-2 acknowledged then a failure: a new session resends from 3, nothing repeated, nothing skipped.
    assert [row.sequence for row in publisher.delivered] == [1, 2, 3, 4, 5, 6]
    assert publisher.starts == 2


async def test_failing_sends_delete_nothing_and_are_retried(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    await spool.append([Item() for _ in range(4)])
    publisher = RecordingPublisher()
    publisher.failing = True
    counters = Counters()
    task = asyncio.create_task(DeliveryLoop(spool, publisher, counters, batch_size=10, backoff=FAST).run())
    await eventually(lambda: publisher.starts >= 3)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    assert spool.stats.depth == 4
    assert publisher.delivered == []
    assert counters.get("kafka.errors") >= 2


async def test_new_rows_wake_the_loop(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    publisher = RecordingPublisher()
    loop = DeliveryLoop(spool, publisher, Counters(), batch_size=10, backoff=FAST, idle_poll_s=60)
    task = asyncio.create_task(loop.run())
    await asyncio.sleep(0.05)

    await spool.append([Item()])
    loop.wake()
    await drain_task(loop, task)

    assert [row.sequence for row in publisher.delivered] == [1]


async def drain_task(loop: DeliveryLoop, task: asyncio.Task[None]) -> None:
    loop.drain()
    await asyncio.wait_for(task, 2)


def test_backoff_doubles_up_to_its_maximum() -> None:
    backoff = Backoff(initial_s=0.5, maximum_s=4)
    assert [backoff.after(n) for n in range(1, 6)] == [0.5, 1, 2, 4, 4]


async def three_delivered_in_a_long_linger(tmp_path: Path) -> tuple[AsyncSpool, asyncio.Task[None]]:
    """A loop that delivered three spooled events and lingers for a minute before its next read."""
    spool = make_spool(tmp_path)
    await spool.append([Item() for _ in range(3)])
    publisher = RecordingPublisher()
    loop = DeliveryLoop(spool, publisher, Counters(), batch_size=10, backoff=FAST, linger_s=60)
    task = asyncio.create_task(loop.run())
    await eventually(lambda: len(publisher.delivered) == 3)
    return spool, task


async def test_acknowledged_rows_are_deleted_even_when_stopped_during_the_linger(tmp_path: Path) -> None:
    spool, task = await three_delivered_in_a_long_linger(tmp_path)
    assert spool.stats.depth == 3  # deleted with the next read, after the linger

    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    assert spool.stats.depth == 0
    assert await spool.read(10) == []


async def test_acknowledged_rows_leave_with_the_next_spool_write(tmp_path: Path) -> None:
    spool, task = await three_delivered_in_a_long_linger(tmp_path)
    assert spool.stats.depth == 3

    await spool.append([Item() for _ in range(2)])  # during the linger: no read comes before it

    assert spool.stats.depth == 2
    assert [row.sequence for row in await spool.read(10)] == [4, 5]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
