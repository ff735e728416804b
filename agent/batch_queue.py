"""The bounded queue between the sensors, which put one observation at a time, and the spooling task,
which takes what is there a batch at a time.

``asyncio.Queue`` does the same with about ten Python calls per item (``put``, ``full``, ``put_nowait``,
``qsize``, ``empty``, ``get_nowait``…); here putting an item that fits is a length check and an append,
and taking a batch is one call. Back-pressure is unchanged: a producer that finds the queue full waits
until the consumer has taken a batch.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class BatchQueue(Generic[T]):
    """FIFO of at most ``maxsize`` items; any number of producers, one consumer. Event-loop thread only."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be positive, got {maxsize}")
        self._items: deque[T] = deque()
        self._maxsize = maxsize
        self._consumer: asyncio.Future[None] | None = None
        self._producers: list[asyncio.Future[None]] = []

    def __len__(self) -> int:
        return len(self._items)

    def put_nowait(self, item: T) -> bool:
        """Append ``item`` unless the queue is full; whether it was appended."""
        if len(self._items) >= self._maxsize:
            return False
        self._items.append(item)
        consumer = self._consumer
        if consumer is not None:
            self._consumer = None
            if not consumer.done():
                consumer.set_result(None)
        return True

    async def put(self, item: T) -> None:
        """Append ``item``, waiting while the queue is full."""
        while not self.put_nowait(item):
            room: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._producers.append(room)
            try:
                await room
            finally:
                if room in self._producers:  # cancelled while waiting
                    self._producers.remove(room)

    async def wait(self) -> None:
        """Return once the queue holds at least one item."""
        while not self._items:
            consumer = self._consumer = asyncio.get_running_loop().create_future()
            try:
                await consumer
            finally:
                self._consumer = None

    def take(self, limit: int) -> list[T]:
        """The oldest ``limit`` items (fewer if fewer are queued), removed from the queue."""
        items = self._items
        if len(items) <= limit:
            taken = list(items)
            items.clear()
        else:
            taken = [items.popleft() for _ in range(limit)]
        if taken and self._producers:
            # Every waiting producer retries; those that find no room wait again (there are few).
            producers, self._producers = self._producers, []
            for room in producers:
                if not room.done():
                    room.set_result(None)
        return taken
