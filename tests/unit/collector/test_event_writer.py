"""The merged events writer: batch order, merging while a request is out, failures reach their batches."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from collector.event_writer import EventWriter
from collector.sinks import Document


def docs(*ids: str) -> list[Document]:
    return [Document("events", doc_id, datetime(2026, 11, 22, tzinfo=UTC), {"n": doc_id}) for doc_id in ids]


class SlowStore:
    """Records each request; the first one waits until released, so later batches queue behind it."""

    def __init__(self) -> None:
        self.requests: list[tuple[list[str], dict[str, int]]] = []
        self.release = asyncio.Event()
        self.fail_ids: set[str] = set()

    async def write(self, documents: Sequence[Document], origins: dict[str, int]) -> None:
        self.requests.append(([doc.id for doc in documents], dict(origins)))
        if len(self.requests) == 1:
            await self.release.wait()
        if self.fail_ids & {doc.id for doc in documents}:
            raise RuntimeError("store refused")


async def test_batches_queued_behind_a_request_go_out_together_in_order() -> None:
    store = SlowStore()
    writer = EventWriter(store.write, max_documents=3)
    first = writer.submit(docs("a"), {"a": 1})
    await asyncio.sleep(0)
    later = [writer.submit(docs("b", "c"), {"b": 2, "c": 3}), writer.submit(docs("d"), {"d": 4})]
    last = writer.submit(docs("e", "f"), {"e": 5, "f": 6})
    await asyncio.sleep(0.01)
    assert not first.done()
    assert not any(future.done() for future in later)
    store.release.set()
    await asyncio.wait_for(asyncio.gather(first, *later, last), 1)
    # b,c and d merge (3 documents, the limit); e,f would exceed it and go in the next request
    assert store.requests == [
        (["a"], {"a": 1}),
        (["b", "c", "d"], {"b": 2, "c": 3, "d": 4}),
        (["e", "f"], {"e": 5, "f": 6}),
    ]
    assert writer.requests == 3


async def test_a_failed_request_fails_its_batches_only() -> None:
    store = SlowStore()
    store.release.set()
    store.fail_ids = {"x"}
    writer = EventWriter(store.write, max_documents=1)  # one batch a request
    failing = writer.submit(docs("x"), {"x": 1})
    following = writer.submit(docs("y"), {"y": 2})
    with pytest.raises(RuntimeError, match="store refused"):
        await failing
    await asyncio.wait_for(following, 1)
    assert [ids for ids, _ in store.requests] == [["x"], ["y"]]


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        EventWriter(SlowStore().write, max_documents=0)
