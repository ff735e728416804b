"""Indexes the events of consecutive batches in merged bulk requests, one request at a time, in order.

Events are the bulk of what the collector writes, and each bulk request has a fixed cost in Elasticsearch
(a translog sync, a shard-level task) and in the collector (a request, a response to parse). Batches are
small when the stream is quiet and the alerts path keeps them short, so the events of every batch waiting
when the previous request returns are written in one request (up to ``max_documents``). Requests never
overlap, so a batch's events are written (and its future resolved) only after every earlier batch's:
offsets committed in batch order therefore never cover an unwritten event.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from collector.sinks import Document

T = TypeVar("T")  # what the caller keeps per document id (where it came from, for dead letters)

DEFAULT_MAX_DOCUMENTS = 5000
"""Documents per merged request: ~1.5 KB each, a few MB a request, within Elasticsearch's advice."""


class EventWriter(Generic[T]):
    """Queue of (documents, their origins) per batch; ``write`` does the real work for a merged group.

    ``write`` receives the concatenated documents and the merged origins of one or more consecutive
    batches; when it raises, every batch of that group sees the exception (their offsets must not be
    committed) and later batches are still attempted."""

    def __init__(
        self,
        write: Callable[[Sequence[Document], dict[str, T]], Awaitable[None]],
        max_documents: int = DEFAULT_MAX_DOCUMENTS,
    ) -> None:
        if max_documents < 1:
            raise ValueError("max_documents must be at least 1")
        self._write = write
        self._max_documents = max_documents
        self._queue: deque[tuple[Sequence[Document], dict[str, T], asyncio.Future[None]]] = deque()
        self._draining: asyncio.Task[None] | None = None
        self.requests = 0

    def submit(self, documents: Sequence[Document], origins: dict[str, T]) -> asyncio.Future[None]:
        """Queue one batch's documents; the future completes once they (and all queued before) are written."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((documents, origins, future))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.ensure_future(self._drain())
        return future

    async def _drain(self) -> None:
        while self._queue:
            group = [self._queue.popleft()]
            count = len(group[0][0])
            while self._queue and count + len(self._queue[0][0]) <= self._max_documents:
                group.append(self._queue.popleft())
                count += len(group[-1][0])
            documents = [document for batch, _, _ in group for document in batch]
            origins = group[0][1].copy()
            for _, more, _ in group[1:]:
                origins.update(more)
            try:
                self.requests += 1
                await self._write(documents, origins)
            except BaseException as error:
                for _, _, future in group:
                    if not future.done():
                        future.set_exception(error)
                if not isinstance(error, Exception):  # cancellation, interpreter exit: stop draining
                    for _, _, future in self._queue:
                        future.cancel()
                    self._queue.clear()
                    raise
                continue
            for _, _, future in group:
                if not future.done():
                    future.set_result(None)
