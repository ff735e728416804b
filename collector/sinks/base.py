"""The contract every sink keeps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

Family = Literal["events", "alerts"]
# Monthly index families the collector deletes past their retention (the audit trail is the store's).
RetainedFamily = Literal["events", "alerts", "audit"]


@dataclass(frozen=True, slots=True)
class Document:
    """One document to index: its family (which monthly index), deterministic id, time and body."""

    family: Family
    id: str
    timestamp: datetime
    body: Mapping[str, Any]


@dataclass(slots=True)
class WriteReport:
    """What one write did. ``rejected`` maps a document id to the permanent reason it cannot be indexed."""

    created: int = 0
    already_present: int = 0
    rejected: dict[str, str] = field(default_factory=dict)


class SinkUnavailable(RuntimeError):
    """The store cannot take writes now (down, overloaded, read-only). Retry the whole batch later."""


class DocumentSink(Protocol):
    """An idempotent document store.

    Lifecycle: ``await start()`` once (prepares index templates), any number of ``await write(...)``,
    then ``await close()``.

    Guarantees: when ``write`` returns, every document of the batch is durably stored, was already
    stored under the same id (a replay), or is listed in ``WriteReport.rejected`` with a permanent
    reason. Writing the same batch twice leaves exactly one copy of each document. A transient failure
    raises :class:`SinkUnavailable` and promises nothing about the batch, which is safe to write again.
    """

    async def start(self) -> None: ...

    async def write(self, documents: Sequence[Document]) -> WriteReport: ...

    async def close(self) -> None: ...
