"""The durable on-disk queue between capture and delivery: SQLite in WAL mode.

Guarantees:

* An event is spooled in the same transaction that assigns its ``event.sequence``, and the sequence
  counter lives in the same database, so a sequence number is never used twice, even across ``kill -9``
  or power loss, and a spooled event is never lost by a crash (``synchronous=FULL``: each commit is on
  stable storage before ``append`` returns; batching amortises the fsync).
* Events come out in sequence order and leave only through :meth:`Spool.delete_through` (after Kafka
  acknowledged them) or through the cap policy, which counts every event it drops.
* Cap policy at ``max_rows`` events / ``max_bytes`` (payload bytes, not file size):
  ``drop_oldest`` keeps capturing and frees room down to 95 % of the cap, dropping the oldest heartbeats
  first (a newer one supersedes them) and then the oldest events; ``refuse_new`` keeps what is spooled
  and drops incoming events that do not fit. Either way a dropped event has consumed its sequence number,
  so the collector sees the gap, and the count is persisted and reported in the heartbeat.
  An event larger than ``max_record_bytes`` is dropped the same way: it could never be delivered.

A write is stored as one row (:mod:`agent.spool_batches`), but every figure and the cap count events, as
when each event was a row (hence ``max_rows``). A spool from before is migrated when opened.

A :class:`Spool` is not thread-safe; :class:`agent.spool_thread.AsyncSpool` confines it to one thread.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from agent.spool_batches import (
    INSERT,
    SCHEMA,
    SCHEMA_VERSION,
    Batch,
    batches_of,
    migrate_v1,
    read_batches,
)
from agent.spool_batches import SpooledEvent as SpooledEvent  # delivery's unit, re-exported

log = logging.getLogger(__name__)

SPOOL_FILE = "spool.sqlite3"
MAX_RECORD_BYTES = 1_000_000
"""Larger events are dropped (and counted) at the spool: Kafka and the collector would refuse them, and
one such event at the head would block delivery of everything behind it."""
LOW_WATER = 0.95
"""Fraction of the cap the drop policy frees down to, so the costly search for victims runs rarely."""

CapPolicy = Literal["drop_oldest", "refuse_new"]

_HEARTBEATS_FIRST = (
    "SELECT first_sequence, events, bytes FROM batches WHERE droppable = 1 ORDER BY first_sequence"
)
_OLDEST_FIRST = "SELECT first_sequence, events, bytes FROM batches ORDER BY first_sequence"


class Spoolable(Protocol):
    """An event waiting for its sequence number. ``render`` gives its wire bytes once it has one."""

    @property
    def key(self) -> bytes: ...

    @property
    def droppable(self) -> bool:
        """True when a newer event of the same kind supersedes this one (heartbeats)."""
        ...

    def render(self, sequence: int) -> bytes: ...


@dataclass(frozen=True, slots=True)
class AppendResult:
    spooled: int
    dropped: int
    first_sequence: int
    last_sequence: int


@dataclass(frozen=True, slots=True)
class SpoolStats:
    depth: int
    """Events, not rows."""
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
        self._max_events = max_rows
        self._max_bytes = max_bytes
        self._policy = policy
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        # Debian's and Ubuntu's SQLite overwrite deleted content with zeros by default (secure_delete=ON):
        # the ~23 pages of a spool row's payloads, written again for every delete. FAST clears what a
        # delete leaves in b-tree pages, not freed pages, which the next writes reuse (halves a delete's
        # CPU); what a freed page still holds was in the spool's live rows, and is in Kafka, anyway.
        self._db.execute("PRAGMA secure_delete=FAST")
        self._open_schema()
        events, size = self._db.execute(
            "SELECT COALESCE(SUM(events), 0), COALESCE(SUM(bytes), 0) FROM batches"
        ).fetchone()
        self._events: int = events
        self._bytes: int = size
        self._dropped = self._counter("dropped")
        # Only this connection writes the spool: the counter is read once and then kept here as well.
        self._next_sequence = self._counter("next_sequence")

    def append(self, items: Sequence[Spoolable], delete_through: int | None = None) -> AppendResult:
        """Number, render and store ``items`` in one transaction; apply the cap policy in it too. With
        ``delete_through``, the events up to it (acknowledged) are deleted first, in the same transaction:
        one commit, with its fsync, instead of two."""
        first = self._next_sequence
        end = first + len(items)
        sequences = list(range(first, end))
        payloads = [item.render(sequence) for sequence, item in zip(sequences, items, strict=True)]
        keys = [item.key for item in items]
        droppable = [item.droppable for item in items]
        if payloads and max(map(len, payloads)) > self._max_record_bytes:
            kept = [at for at, payload in enumerate(payloads) if len(payload) <= self._max_record_bytes]
            sequences = [sequences[at] for at in kept]
            keys = [keys[at] for at in kept]
            payloads = [payloads[at] for at in kept]
            droppable = [droppable[at] for at in kept]
        refused = len(items) - len(sequences)
        if self._policy == "refuse_new":
            fitting = self._fitting(keys, payloads)
            refused += len(sequences) - fitting
            for values in (sequences, keys, payloads, droppable):
                del values[fitting:]
        rows = [batch.row() for batch in batches_of(sequences, keys, payloads, droppable)]
        events, size_before = self._events, self._bytes
        try:
            with self._transaction():
                if delete_through is not None:
                    self._delete_through(delete_through)
                self._db.executemany(INSERT, rows)
                self._events += len(sequences)
                self._bytes += sum(row[3] for row in rows)
                evicted = self._evict() if self._policy == "drop_oldest" else 0
                dropped = refused + evicted
                self._set_counter("next_sequence", end)
                if dropped:
                    self._set_counter("dropped", self._dropped + dropped)
        except BaseException:
            self._events, self._bytes = events, size_before  # rolled back: so are the figures
            raise
        self._next_sequence = end
        self._dropped += dropped
        return AppendResult(len(sequences), dropped, first, end - 1)

    def read(self, limit: int, delete_through: int | None = None) -> list[SpooledEvent]:
        """The oldest events, in sequence order: whole batches while they fit in ``limit``, or the first
        ``limit`` events of the oldest. After :meth:`delete_through` if given (one call from the event
        loop instead of two)."""
        if delete_through is not None:
            self.delete_through(delete_through)
        found: list[SpooledEvent] = []
        cursor = self._db.execute(
            "SELECT events, key, droppable, sequences, sizes, payloads FROM batches ORDER BY first_sequence"
        )
        try:
            for events, *row in cursor:
                if found and len(found) + events > limit:
                    break
                found.extend(Batch.from_row(*row).events()[: limit - len(found)])
                if len(found) >= limit:
                    break
        finally:
            cursor.close()
        return found

    def delete_through(self, sequence: int) -> int:
        """Delete every event up to and including ``sequence`` (they were acknowledged)."""
        events, size = self._events, self._bytes
        try:
            with self._transaction():
                return self._delete_through(sequence)
        except BaseException:
            self._events, self._bytes = events, size  # rolled back: so are the figures
            raise

    def _delete_through(self, sequence: int) -> int:
        """:meth:`delete_through` inside the caller's transaction; the figures follow at once."""
        events, size = self._db.execute(
            "SELECT COALESCE(SUM(events), 0), COALESCE(SUM(bytes), 0) FROM batches"
            " WHERE first_sequence <= ? AND last_sequence <= ?",
            (sequence, sequence),
        ).fetchone()
        self._db.execute(
            "DELETE FROM batches WHERE first_sequence <= ? AND last_sequence <= ?", (sequence, sequence)
        )
        # A batch read in part (a read's limit, a partial acknowledgement) keeps its unacknowledged rest.
        for batch in list(
            read_batches(self._db, "first_sequence <= ? AND last_sequence > ?", (sequence, sequence))
        ):
            rest = batch.after(sequence)
            self._replace(batch, rest)
            events += len(batch.sequences) - len(rest.sequences)
            size += batch.size - rest.size
        self._events -= events
        self._bytes -= size
        return int(events)

    def stats(self) -> SpoolStats:
        return SpoolStats(self._events, self._bytes, self._dropped, self._policy)

    def next_sequence(self) -> int:
        return self._next_sequence

    def close(self) -> None:
        self._db.close()

    # --- internals -----------------------------------------------------------------------------------

    def _open_schema(self) -> None:
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path} was written by a newer agent (spool schema {version}, this agent reads"
                f" {SCHEMA_VERSION}); move it aside or run the newer agent until it is empty"
            )
        self._db.executescript(SCHEMA)
        v1 = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'"
        if self._db.execute(v1).fetchone():
            moved = migrate_v1(self._db)
            log.info("spool migrated to one row per write", extra={"events": moved, "path": str(self.path)})
        elif version < SCHEMA_VERSION:
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _fitting(self, keys: list[bytes], payloads: list[bytes]) -> int:
        """How many of the leading events fit under both caps; the rest are refused."""
        events_left = self._max_events - self._events
        bytes_left = self._max_bytes - self._bytes
        for at, (key, payload) in enumerate(zip(keys, payloads, strict=True)):
            size = len(key) + len(payload)
            if events_left < 1 or size > bytes_left:
                return at
            events_left -= 1
            bytes_left -= size
        return len(payloads)

    def _evict(self) -> int:
        if self._events <= self._max_events and self._bytes <= self._max_bytes:
            return 0
        evicted = self._drop_oldest(_HEARTBEATS_FIRST)  # heartbeats: a newer one supersedes them
        if self._over_low_water():
            evicted += self._drop_oldest(_OLDEST_FIRST)
        return evicted

    def _over_low_water(self) -> bool:
        return self._events > int(self._max_events * LOW_WATER) or self._bytes > int(
            self._max_bytes * LOW_WATER
        )

    def _drop_oldest(self, query: str) -> int:
        """Drop the oldest events of the batches ``query`` selects, one by one, until under the low water
        mark: whole batches, then part of the last one if that is enough. The number dropped."""
        victims: list[tuple[int]] = []
        boundary: tuple[int, ...] | None = None
        events_after, bytes_after = self._events, self._bytes
        low_events, low_bytes = int(self._max_events * LOW_WATER), int(self._max_bytes * LOW_WATER)
        cursor = self._db.execute(query)
        try:
            for first, events, size in cursor:
                if events_after <= low_events and bytes_after <= low_bytes:
                    break
                if events_after - events > low_events or bytes_after - size > low_bytes:
                    victims.append((first,))
                    events_after -= events
                    bytes_after -= size
                else:
                    boundary = (first,)
                    break
        finally:
            cursor.close()
        self._db.executemany("DELETE FROM batches WHERE first_sequence = ?", victims)
        dropped = self._events - events_after
        self._events, self._bytes = events_after, bytes_after
        if boundary is not None:
            (batch,) = read_batches(self._db, "first_sequence = ?", boundary)
            per_event = len(batch.key)
            count = 0
            for payload in batch.payloads:
                if not self._over_low_water():
                    break
                self._events -= 1
                self._bytes -= per_event + len(payload)
                count += 1
            self._replace(batch, batch.split(count)[1])
            dropped += count
        return dropped

    def _replace(self, batch: Batch, rest: Batch) -> None:
        """Put ``rest`` (the tail of ``batch``) in place of ``batch``, or nothing if it is empty."""
        self._db.execute("DELETE FROM batches WHERE first_sequence = ?", (batch.sequences[0],))
        if rest.sequences:
            self._db.execute(INSERT, rest.row())

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
