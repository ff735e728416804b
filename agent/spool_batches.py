"""How the spool stores events: one SQLite row per run of events written together, not one per event.

A spool write of n events used to insert n rows (and delivery to read and delete n rows): on a small
machine ~6 µs of SQLite per row and per direction, a large share of the agent's CPU per event. A row
now holds a *batch*: consecutive events of one spool write that share their key and their
``droppable`` flag, which in practice is the whole write (one agent, one key; a heartbeat gets a row of
its own, so the cap policy can still drop heartbeats first by deleting whole rows). The row carries
what the spool needs without decoding it (first and last sequence, event count, payload bytes as the
cap counts them, the flag, the key once) and the events framed in two blobs: their sequence numbers
(``int64``) and payload sizes (``uint32``) as native-order arrays (the file never leaves its host), and
the payloads one after the other.

Schema version 2 (``PRAGMA user_version``). Version 1 stored a row per event in table ``events``;
:func:`migrate_v1` moves such rows into batches when a spool from before is opened.
"""

from __future__ import annotations

import sqlite3
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import NamedTuple

SCHEMA_VERSION = 2
MIGRATION_BATCH_EVENTS = 500
MIGRATION_BATCH_BYTES = 4 * 2**20
"""Limits of a batch made from version-1 rows (the size of a default spool write, and a bound on memory)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    first_sequence INTEGER PRIMARY KEY,
    last_sequence INTEGER NOT NULL,
    events INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    droppable INTEGER NOT NULL,
    key BLOB NOT NULL,
    sequences BLOB NOT NULL,
    sizes BLOB NOT NULL,
    payloads BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS batches_droppable ON batches(first_sequence) WHERE droppable = 1;
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters VALUES ('next_sequence', 1), ('dropped', 0);
"""

INSERT = "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
SELECT = "SELECT key, droppable, sequences, sizes, payloads FROM batches"


class SpooledEvent(NamedTuple):
    """A spooled event as delivery reads it."""

    sequence: int
    key: bytes
    payload: bytes


@dataclass(frozen=True, slots=True)
class Batch:
    """Consecutive spooled events sharing ``key`` and ``droppable``; ``sequences`` ascend."""

    key: bytes
    droppable: bool
    sequences: list[int]
    payloads: list[bytes]

    @property
    def size(self) -> int:
        """Bytes as the cap counts them: key and payload of every event."""
        return len(self.key) * len(self.payloads) + sum(map(len, self.payloads))

    def row(self) -> tuple[int, int, int, int, int, bytes, bytes, bytes, bytes]:
        sizes = array("I", map(len, self.payloads))
        return (
            self.sequences[0],
            self.sequences[-1],
            len(self.sequences),
            len(self.key) * len(sizes) + sum(sizes),
            int(self.droppable),
            self.key,
            array("q", self.sequences).tobytes(),
            sizes.tobytes(),
            b"".join(self.payloads),
        )

    @classmethod
    def from_row(cls, key: bytes, droppable: int, sequences: bytes, sizes: bytes, payloads: bytes) -> Batch:
        numbers = array("q")
        numbers.frombytes(sequences)
        lengths = array("I")
        lengths.frombytes(sizes)
        offsets = list(accumulate(lengths, initial=0))
        return cls(
            key,
            bool(droppable),
            numbers.tolist(),
            list(map(payloads.__getitem__, map(slice, offsets, offsets[1:]))),
        )

    def events(self) -> list[SpooledEvent]:
        key = self.key
        return [
            SpooledEvent(sequence, key, payload)
            for sequence, payload in zip(self.sequences, self.payloads, strict=True)
        ]

    def split(self, count: int) -> tuple[Batch, Batch]:
        """The first ``count`` events and the rest."""
        return (
            Batch(self.key, self.droppable, self.sequences[:count], self.payloads[:count]),
            Batch(self.key, self.droppable, self.sequences[count:], self.payloads[count:]),
        )

    def after(self, sequence: int) -> Batch:
        """The events numbered above ``sequence``."""
        keep = next(
            (at for at, number in enumerate(self.sequences) if number > sequence), len(self.sequences)
        )
        return self.split(keep)[1]


def batches_of(
    sequences: list[int], keys: list[bytes], payloads: list[bytes], droppable: list[bool]
) -> Iterator[Batch]:
    """Consecutive events grouped into batches of one key and one ``droppable`` flag."""
    if not sequences:
        return
    if not any(droppable) and keys.count(keys[0]) == len(keys):  # the usual write: one batch
        yield Batch(keys[0], False, sequences, payloads)
        return
    start = 0
    for at in range(1, len(sequences) + 1):
        if at == len(sequences) or keys[at] != keys[start] or droppable[at] != droppable[start]:
            yield Batch(keys[start], droppable[start], sequences[start:at], payloads[start:at])
            start = at


def read_batches(
    db: sqlite3.Connection, where: str = "", parameters: Iterable[object] = ()
) -> Iterator[Batch]:
    """Batches in sequence order (``where``: an SQL condition on the batches table)."""
    query = f"{SELECT} {'WHERE ' + where if where else ''} ORDER BY first_sequence"
    for row in db.execute(query, tuple(parameters)):
        yield Batch.from_row(*row)


def migrate_v1(db: sqlite3.Connection) -> int:
    """Move version 1's rows (a row per event, table ``events``) into batches, in one transaction:
    interrupted, nothing changed and the next start migrates again. The schema (:data:`SCHEMA`) must exist;
    version 1's counters are kept as they are. The number of events moved."""
    moved = 0
    db.execute("BEGIN IMMEDIATE")
    try:
        pending: list[tuple[int, bytes, bytes, bool]] = []
        size = 0
        rows = db.execute("SELECT sequence, key, payload, droppable FROM events ORDER BY sequence")
        for sequence, key, payload, droppable in rows:
            fits = pending and pending[-1][1] == key and pending[-1][3] == bool(droppable)
            if pending and (
                not fits
                or len(pending) >= MIGRATION_BATCH_EVENTS
                or size + len(payload) > MIGRATION_BATCH_BYTES
            ):
                moved += _insert_v1(db, pending)
                pending, size = [], 0
            pending.append((sequence, key, payload, bool(droppable)))
            size += len(payload)
        if pending:
            moved += _insert_v1(db, pending)
        db.execute("DROP TABLE events")  # its partial index goes with it
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return moved


def _insert_v1(db: sqlite3.Connection, rows: list[tuple[int, bytes, bytes, bool]]) -> int:
    batch = Batch(rows[0][1], rows[0][3], [row[0] for row in rows], [row[2] for row in rows])
    db.execute(INSERT, batch.row())
    return len(rows)
