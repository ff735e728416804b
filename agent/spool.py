"""The durable on-disk queue between capture and delivery: SQLite in WAL mode.

Guarantees:

* An event is spooled in the same transaction that assigns its ``event.sequence``, and the sequence
  counter lives in the same database, so a sequence number is never used twice, even across ``kill -9``
  or power loss, and a spooled event is never lost by a crash (``synchronous=FULL``: each commit is on
  stable storage before ``append`` returns; batching amortises the fsync).
* Rows come out in sequence order and leave only through :meth:`Spool.delete_through` (after Kafka
  acknowledged them) or through the cap policy, which counts every row it drops.
* Cap policy at ``max_rows`` / ``max_bytes`` (payload bytes, not file size):
  ``drop_oldest`` keeps capturing and frees room down to 95 % of the cap, dropping the oldest heartbeats
  first (a newer one supersedes them) and then the oldest events; ``refuse_new`` keeps what is spooled
  and drops incoming events that do not fit. Either way a dropped event has consumed its sequence number,
  so the collector sees the gap, and the count is persisted and reported in the heartbeat.
  An event larger than ``max_record_bytes`` is dropped the same way: it could never be delivered.

A :class:`Spool` is not thread-safe; :class:`AsyncSpool` confines it to one worker thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple, Protocol, TypeVar

SPOOL_FILE = "spool.sqlite3"
MAX_RECORD_BYTES = 1_000_000
"""Larger events are dropped (and counted) at the spool: Kafka and the collector would refuse them, and
one such row at the head would block delivery of everything behind it."""
LOW_WATER = 0.95
"""Fraction of the cap the drop policy frees down to, so the costly search for victims runs rarely."""

CapPolicy = Literal["drop_oldest", "refuse_new"]
T = TypeVar("T")
_Row = tuple[int, bytes, bytes, bool]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    sequence INTEGER PRIMARY KEY,
    key BLOB NOT NULL,
    payload BLOB NOT NULL,
    droppable INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_droppable ON events(sequence) WHERE droppable = 1;
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters VALUES ('next_sequence', 1), ('dropped', 0);
"""


class Spoolable(Protocol):
    """An event waiting for its sequence number. ``render`` gives its wire bytes once it has one."""

    @property
    def key(self) -> bytes: ...

    @property
    def droppable(self) -> bool:
        """True when a newer event of the same kind supersedes this one (heartbeats)."""
        ...

    def render(self, sequence: int) -> bytes: ...


class SpooledEvent(NamedTuple):
    """A spooled row as delivery reads it (a tuple: read a thousand at a time, made straight from rows)."""

    sequence: int
    key: bytes
    payload: bytes


@dataclass(frozen=True, slots=True)
class AppendResult:
    spooled: int
    dropped: int
    first_sequence: int
    last_sequence: int


@dataclass(frozen=True, slots=True)
class SpoolStats:
    depth: int
    bytes: int
    dropped: int
    policy: CapPolicy


class Spool:
    """Synchronous spool on one SQLite connection. See the module docstring for its guarantees."""

    def __init__(
        self,
        path: Path,
        max_rows: int,
        max_bytes: int,
        policy: CapPolicy,
        max_record_bytes: int = MAX_RECORD_BYTES,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._max_record_bytes = max_record_bytes
        self._max_rows = max_rows
        self._max_bytes = max_bytes
        self._policy = policy
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        rows, size = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(length(key) + length(payload)), 0) FROM events"
        ).fetchone()
        self._rows: int = rows
        self._bytes: int = size
        self._dropped = self._counter("dropped")
        # Only this connection writes the spool: the counter is read once and then kept here as well.
        self._next_sequence = self._counter("next_sequence")

    def append(self, items: Sequence[Spoolable]) -> AppendResult:
        """Number, render and store ``items`` in one transaction; apply the cap policy in it too."""
        first = self._next_sequence
        limit = self._max_record_bytes
        records: list[_Row] = []
        size = 0
        for sequence, item in enumerate(items, first):
            payload = item.render(sequence)
            if len(payload) <= limit:
                key = item.key
                records.append((sequence, key, payload, item.droppable))
                size += len(key) + len(payload)
        refused = len(items) - len(records)
        if self._policy == "refuse_new":
            records, not_fitting = self._fitting(records)
            refused += not_fitting
            size = sum(len(key) + len(payload) for _, key, payload, _ in records)
        rows, size_before = self._rows, self._bytes
        try:
            with self._transaction():
                self._db.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", records)
                self._rows += len(records)
                self._bytes += size
                evicted = self._evict() if self._policy == "drop_oldest" else 0
                dropped = refused + evicted
                self._set_counter("next_sequence", first + len(items))
                if dropped:
                    self._set_counter("dropped", self._dropped + dropped)
        except BaseException:
            self._rows, self._bytes = rows, size_before  # rolled back: so are the figures
            raise
        self._next_sequence = first + len(items)
        self._dropped += dropped
        return AppendResult(len(records), dropped, first, first + len(items) - 1)

    def read(self, limit: int, delete_through: int | None = None) -> list[SpooledEvent]:
        """The oldest ``limit`` events, in sequence order; after :meth:`delete_through` if given (one call
        from the event loop instead of two)."""
        if delete_through is not None:
            self.delete_through(delete_through)
        cursor = self._db.execute(
            "SELECT sequence, key, payload FROM events ORDER BY sequence LIMIT ?", (limit,)
        )
        return list(map(SpooledEvent._make, cursor))

    def delete_through(self, sequence: int) -> int:
        """Delete every event up to and including ``sequence`` (they were acknowledged)."""
        with self._transaction():
            rows, size = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(length(key) + length(payload)), 0) FROM events"
                " WHERE sequence <= ?",
                (sequence,),
            ).fetchone()
            self._db.execute("DELETE FROM events WHERE sequence <= ?", (sequence,))
        self._rows -= rows
        self._bytes -= size
        return int(rows)

    def stats(self) -> SpoolStats:
        return SpoolStats(self._rows, self._bytes, self._dropped, self._policy)

    def next_sequence(self) -> int:
        return self._next_sequence

    def close(self) -> None:
        self._db.close()

    # --- internals -----------------------------------------------------------------------------------

    def _fitting(self, records: list[_Row]) -> tuple[list[_Row], int]:
        """The leading records that fit under both caps; the rest are refused."""
        rows_left = self._max_rows - self._rows
        bytes_left = self._max_bytes - self._bytes
        fitting = 0
        for _, key, payload, _ in records:
            size = len(key) + len(payload)
            if rows_left < 1 or size > bytes_left:
                break
            rows_left -= 1
            bytes_left -= size
            fitting += 1
        return records[:fitting], len(records) - fitting

    def _evict(self) -> int:
        if self._rows <= self._max_rows and self._bytes <= self._max_bytes:
            return 0
        target_rows = int(self._max_rows * LOW_WATER)
        target_bytes = int(self._max_bytes * LOW_WATER)
        evicted = 0
        for query in (
            "SELECT sequence, length(key) + length(payload) FROM events WHERE droppable = 1"
            " ORDER BY sequence",
            "SELECT sequence, length(key) + length(payload) FROM events ORDER BY sequence",
        ):
            victims: list[tuple[int]] = []
            freed = 0
            for seq, size in self._db.execute(query):
                if self._rows - len(victims) <= target_rows and self._bytes - freed <= target_bytes:
                    break
                victims.append((seq,))
                freed += size
            self._db.executemany("DELETE FROM events WHERE sequence = ?", victims)
            self._rows -= len(victims)
            self._bytes -= freed
            evicted += len(victims)
            if self._rows <= target_rows and self._bytes <= target_bytes:
                break
        return evicted

    def _counter(self, name: str) -> int:
        row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0])

    def _set_counter(self, name: str, value: int) -> None:
        self._db.execute("UPDATE counters SET value = ? WHERE name = ?", (value, name))

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")


class AsyncSpool:
    """The spool for the event loop: every call runs, in order, on one dedicated worker thread, so the
    loop never waits on an fsync and the connection is never used from two threads."""

    def __init__(self, spool: Spool) -> None:
        self._spool = spool
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spool")
        self._stats = spool.stats()

    @property
    def stats(self) -> SpoolStats:
        """The figures as of the last completed call; never blocks."""
        return self._stats

    async def append(self, items: Sequence[Spoolable]) -> AppendResult:
        return await self._run(self._spool.append, items)

    async def read(self, limit: int, delete_through: int | None = None) -> list[SpooledEvent]:
        return await self._run(self._spool.read, limit, delete_through)

    async def delete_through(self, sequence: int) -> int:
        return await self._run(self._spool.delete_through, sequence)

    async def close(self) -> None:
        await self._run(self._spool.close)
        self._worker.shutdown(wait=True)

    async def _run(self, call: Callable[..., T], *args: object) -> T:
        def run_and_snapshot() -> T:
            try:
                return call(*args)
            finally:
                if call != self._spool.close:
                    self._stats = self._spool.stats()

        return await asyncio.get_running_loop().run_in_executor(self._worker, run_and_snapshot)
