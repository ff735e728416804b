"""The queue between sensors and the spooling task: order, batches, back-pressure, cancellation."""

from __future__ import annotations

import asyncio

import pytest

from agent.batch_queue import BatchQueue


async def test_items_come_out_in_order_a_batch_at_a_time() -> None:
    queue: BatchQueue[int] = BatchQueue(100)
    for n in range(7):
        assert queue.put_nowait(n)

    assert queue.take(3) == [0, 1, 2]
    assert len(queue) == 4
    assert queue.take(10) == [3, 4, 5, 6]
    assert queue.take(10) == []


async def test_a_full_queue_refuses_put_nowait_and_makes_put_wait_for_a_take() -> None:
    queue: BatchQueue[int] = BatchQueue(2)
    assert queue.put_nowait(1)
    assert queue.put_nowait(2)
    assert not queue.put_nowait(3)

    putting = asyncio.create_task(queue.put(3))
    await asyncio.sleep(0.01)
    assert not putting.done()
    assert len(queue) == 2

    assert queue.take(1) == [1]
    await asyncio.wait_for(putting, 1)
    assert queue.take(10) == [2, 3]


async def test_wait_returns_once_an_item_is_put() -> None:
    queue: BatchQueue[str] = BatchQueue(10)
    waiting = asyncio.create_task(queue.wait())
    await asyncio.sleep(0.01)
    assert not waiting.done()

    queue.put_nowait("a")

    await asyncio.wait_for(waiting, 1)
    await asyncio.wait_for(queue.wait(), 1)  # not empty: returns at once
    assert queue.take(5) == ["a"]


async def test_a_cancelled_producer_leaves_the_others_waiting_and_puts_nothing() -> None:
    queue: BatchQueue[int] = BatchQueue(1)
    queue.put_nowait(0)
    cancelled = asyncio.create_task(queue.put(1))
    kept = asyncio.create_task(queue.put(2))
    await asyncio.sleep(0.01)
    cancelled.cancel()
    await asyncio.gather(cancelled, return_exceptions=True)

    assert queue.take(1) == [0]
    await asyncio.wait_for(kept, 1)
    assert queue.take(5) == [2]


def test_the_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        BatchQueue(0)
