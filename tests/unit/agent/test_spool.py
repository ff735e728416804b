"""The spool: order, deletion after acknowledgement, the cap policies, durability across crashes."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.spool import SPOOL_FILE, CapPolicy, Spool
from agent.spool_thread import AsyncSpool


@dataclass(frozen=True)
class Item:
    """A spoolable whose payload records the sequence it was given, so tests can check numbering."""

    name: str
    droppable: bool = False
    key: bytes = b"host-1"

    def render(self, sequence: int) -> bytes:
        return f"{sequence}:{self.name}".encode()


def open_spool(
    path: Path, max_rows: int = 1000, max_bytes: int = 10**9, policy: str = "drop_oldest"
) -> Spool:
    return Spool(path / SPOOL_FILE, max_rows=max_rows, max_bytes=max_bytes, policy=policy)  # type: ignore[arg-type]


def test_events_come_out_in_sequence_order_with_their_number_rendered(tmp_path: Path) -> None:
    spool = open_spool(tmp_path)
    spool.append([Item("a"), Item("b")])
    spool.append([Item("c")])

    rows = spool.read(10)

    assert [row.sequence for row in rows] == [1, 2, 3]
    assert [row.payload for row in rows] == [b"1:a", b"2:b", b"3:c"]
    assert spool.read(2)[-1].sequence == 2


def test_delete_through_removes_only_acknowledged_rows(tmp_path: Path) -> None:
    spool = open_spool(tmp_path)
    spool.append([Item(str(n)) for n in range(5)])

    assert spool.delete_through(3) == 3

    assert [row.sequence for row in spool.read(10)] == [4, 5]
    stats = spool.stats()
    assert stats.depth == 2
    assert stats.bytes == sum(len(row.key) + len(row.payload) for row in spool.read(10))


def test_sequence_continues_after_reopen_even_when_the_spool_was_emptied(tmp_path: Path) -> None:
    spool = open_spool(tmp_path)
    spool.append([Item("a"), Item("b")])
    spool.delete_through(2)
    spool.close()

    reopened = open_spool(tmp_path)
    result = reopened.append([Item("c")])

    assert (result.first_sequence, result.last_sequence) == (3, 3)
    assert reopened.read(10)[0].payload == b"3:c"


def test_drop_oldest_drops_heartbeats_before_security_events_and_counts_them(tmp_path: Path) -> None:
    spool = open_spool(tmp_path, max_rows=4)
    spool.append(
        [Item("login-1"), Item("hb-1", droppable=True), Item("login-2"), Item("hb-2", droppable=True)]
    )

    result = spool.append([Item("login-3")])

    # Over the cap by one: freeing down to 95 % of 4 rows (3) removes the two heartbeats, oldest first.
    assert result.dropped == 2
    assert [row.payload for row in spool.read(10)] == [b"1:login-1", b"3:login-2", b"5:login-3"]
    assert spool.stats().dropped == 2


def test_drop_oldest_then_drops_oldest_events_and_keeps_the_newest(tmp_path: Path) -> None:
    spool = open_spool(tmp_path, max_rows=10)
    spool.append([Item(f"e{n}") for n in range(10)])

    result = spool.append([Item("newest")])

    assert result.dropped == 2  # 11 rows down to 9 (95 % of 10)
    rows = spool.read(20)
    assert rows[0].sequence == 3
    assert rows[-1].payload == b"11:newest"


def test_refuse_new_keeps_spooled_events_and_gaps_the_sequence(tmp_path: Path) -> None:
    spool = open_spool(tmp_path, max_rows=3, policy="refuse_new")
    spool.append([Item("a"), Item("b")])

    result = spool.append([Item("c"), Item("d"), Item("e")])

    assert (result.spooled, result.dropped) == (1, 2)
    assert [row.payload for row in spool.read(10)] == [b"1:a", b"2:b", b"3:c"]
    spool.delete_through(3)
    assert spool.append([Item("f")]).first_sequence == 6  # refused events used 4 and 5: the gap shows loss


def test_byte_cap_is_enforced(tmp_path: Path) -> None:
    spool = open_spool(tmp_path, max_bytes=100)
    spool.append([Item("x" * 30) for _ in range(5)])

    stats = spool.stats()

    assert stats.bytes <= 100
    assert stats.dropped == 5 - stats.depth


def test_an_event_too_large_to_deliver_is_dropped_and_counted(tmp_path: Path) -> None:
    spool = Spool(tmp_path / SPOOL_FILE, 100, 10**6, "drop_oldest", max_record_bytes=20)

    result = spool.append([Item("small"), Item("x" * 50), Item("after")])

    assert (result.spooled, result.dropped) == (2, 1)
    assert [row.payload for row in spool.read(10)] == [b"1:small", b"3:after"]


def test_dropped_count_survives_reopen(tmp_path: Path) -> None:
    spool = open_spool(tmp_path, max_rows=1, policy="refuse_new")
    spool.append([Item("a"), Item("b")])
    spool.close()

    assert open_spool(tmp_path, max_rows=1, policy="refuse_new").stats().dropped == 1


def test_committed_events_are_visible_to_a_second_connection(tmp_path: Path) -> None:
    spool = open_spool(tmp_path)
    spool.append([Item("a"), Item("b")])

    other = sqlite3.connect(tmp_path / SPOOL_FILE)
    try:
        rows = other.execute("SELECT first_sequence, last_sequence, events FROM batches").fetchall()
        mode = other.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        other.close()

    assert rows == [(1, 2, 2)]
    assert mode == "wal"


def test_kill_9_right_after_append_loses_nothing(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_spool import Item, open_spool
        from pathlib import Path
        spool = open_spool(Path({str(tmp_path)!r}))
        for batch in range(20):
            spool.append([Item(f"{{batch}}-{{n}}") for n in range(50)])
        spool.delete_through(100)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    process = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    assert process.returncode == -9

    spool = open_spool(tmp_path)
    rows = spool.read(10_000)

    assert [row.sequence for row in rows] == list(range(101, 1001))
    assert spool.append([Item("after")]).first_sequence == 1001


@pytest.mark.parametrize("policy", ["drop_oldest", "refuse_new"])
def test_stats_report_the_policy(tmp_path: Path, policy: CapPolicy) -> None:
    assert open_spool(tmp_path, policy=policy).stats().policy == policy


def batch_rows(path: Path) -> list[tuple[int, int, int, int]]:
    """(first sequence, last sequence, events, droppable) of every row, through a second connection."""
    other = sqlite3.connect(path / SPOOL_FILE)
    try:
        return other.execute(
            "SELECT first_sequence, last_sequence, events, droppable FROM batches ORDER BY first_sequence"
        ).fetchall()
    finally:
        other.close()


def test_a_write_is_one_row_and_a_heartbeat_gets_a_row_of_its_own(tmp_path: Path) -> None:
    spool = open_spool(tmp_path)
    spool.append([Item(f"e{n}") for n in range(50)])
    spool.append([Item("a"), Item("hb", droppable=True), Item("b"), Item("c", key=b"host-2")])

    assert batch_rows(tmp_path) == [
        (1, 50, 50, 0),
        (51, 51, 1, 0),
        (52, 52, 1, 1),
        (53, 53, 1, 0),
        (54, 54, 1, 0),
    ]
    rows = spool.read(100)
    assert [row.sequence for row in rows] == list(range(1, 55))
    assert rows[-1].key == b"host-2"
    assert rows[51].payload == b"52:hb"


def test_a_read_stops_at_a_batch_that_does_not_fit_and_splits_only_the_first(tmp_path: Path) -> None:
    spool = open_spool(tmp_path)
    spool.append([Item(str(n)) for n in range(4)])
    spool.append([Item(str(n)) for n in range(4)])

    assert [row.sequence for row in spool.read(6)] == [1, 2, 3, 4]  # the second batch would exceed 6
    assert [row.sequence for row in spool.read(3)] == [1, 2, 3]  # the first batch alone exceeds 3
    assert [row.sequence for row in spool.read(3, delete_through=3)] == [4]
    assert batch_rows(tmp_path) == [(4, 4, 1, 0), (5, 8, 4, 0)]


def test_figures_kept_in_memory_match_the_rows_after_reopen(tmp_path: Path) -> None:
    spool = open_spool(tmp_path, max_rows=30)
    for round_ in range(6):
        spool.append([Item(f"{round_}-{n}" * (n % 3 + 1), droppable=n % 4 == 0) for n in range(9)])
        spool.delete_through(spool.read(5)[-1].sequence)
    before = spool.stats()
    spool.close()

    reopened = open_spool(tmp_path, max_rows=30)
    rows = reopened.read(1000)

    assert reopened.stats() == before
    assert before.depth == len(rows)
    assert before.bytes == sum(len(row.key) + len(row.payload) for row in rows)
    assert before.dropped > 0
    assert [row.sequence for row in rows] == sorted({row.sequence for row in rows})


def write_v1_spool(path: Path) -> None:
    """A spool as the agent wrote it before batches: a row per event."""
    db = sqlite3.connect(path / SPOOL_FILE, isolation_level=None)
    db.executescript(
        """
        PRAGMA journal_mode=WAL;
        CREATE TABLE events (
            sequence INTEGER PRIMARY KEY, key BLOB NOT NULL, payload BLOB NOT NULL, droppable INTEGER NOT NULL
        );
        CREATE INDEX events_droppable ON events(sequence) WHERE droppable = 1;
        CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        INSERT INTO counters VALUES ('next_sequence', 1209), ('dropped', 7);
        """
    )
    rows = [
        (sequence, b"host-1", f"{sequence}:old".encode(), int(sequence % 100 == 0))
        for sequence in range(8, 1209)
    ]
    rows[5:7] = []  # a gap the cap policy left: 13 and 14 were dropped
    db.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", rows)
    db.close()


def test_a_spool_from_before_batches_is_migrated_on_open(tmp_path: Path) -> None:
    write_v1_spool(tmp_path)
    expected = [sequence for sequence in range(8, 1209) if sequence not in (13, 14)]

    spool = open_spool(tmp_path, max_rows=10_000)

    rows = spool.read(10_000)
    assert [row.sequence for row in rows] == expected
    assert all(row.payload == f"{row.sequence}:old".encode() for row in rows)
    assert spool.stats().depth == len(expected)
    assert spool.stats().bytes == sum(len(b"host-1") + len(row.payload) for row in rows)
    assert spool.stats().dropped == 7
    assert spool.append([Item("new")]).first_sequence == 1209
    heartbeats = [row for row in batch_rows(tmp_path) if row[3]]
    assert [(first, last) for first, last, _, _ in heartbeats] == [(n, n) for n in range(100, 1209, 100)]
    assert max(events for _, _, events, _ in batch_rows(tmp_path)) <= 500
    spool.close()

    other = sqlite3.connect(tmp_path / SPOOL_FILE)
    try:
        tables = {name for (name,) in other.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        (version,) = other.execute("PRAGMA user_version").fetchone()
    finally:
        other.close()
    assert "events" not in tables
    assert version == 2
    reopened = open_spool(tmp_path, max_rows=10_000)  # opening again finds nothing left to migrate
    assert [row.sequence for row in reopened.read(10_000)] == [*expected, 1209]


def test_a_migrated_spool_delivers_and_caps_like_a_new_one(tmp_path: Path) -> None:
    write_v1_spool(tmp_path)
    spool = open_spool(tmp_path, max_rows=1000)  # 1,199 old events: over the cap at the first write

    result = spool.append([Item("new")])

    # Down to 950: the 12 heartbeats first, then the oldest events.
    assert spool.stats().depth == 950
    assert result.dropped == 1199 + 1 - 950
    rows = spool.read(10_000)
    assert rows[-1].payload == b"1209:new"
    assert not [row for row in rows if row.sequence % 100 == 0]
    assert spool.delete_through(rows[-1].sequence) == 950


def test_a_spool_from_a_newer_agent_is_refused_with_the_reason(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / SPOOL_FILE)
    db.execute("PRAGMA user_version = 3")
    db.close()

    with pytest.raises(RuntimeError, match="newer agent"):
        open_spool(tmp_path)


async def test_the_async_spool_runs_calls_in_order_hands_back_errors_and_stops_its_thread(
    tmp_path: Path,
) -> None:
    spool = AsyncSpool(open_spool(tmp_path, max_rows=10**6))
    first = asyncio.create_task(spool.append([Item(f"a{n}") for n in range(2000)]))
    await asyncio.sleep(0)
    second = asyncio.create_task(spool.append([Item("b")]))
    first.cancel()  # its write still happens, in its turn, as with an executor

    assert (await second).first_sequence == 2001
    assert spool.stats.depth == 2001
    with pytest.raises(ValueError, match="negative"):
        await spool.append([Negative()])
    assert [row.sequence for row in await spool.read(3)] == [1, 2, 3]  # the spool goes on after an error
    threads = {thread.name for thread in threading.enumerate()}
    await spool.close()

    assert "spool" in threads
    assert spool._thread.is_alive() is False


@dataclass(frozen=True)
class Negative(Item):
    name: str = "negative"

    def render(self, sequence: int) -> bytes:
        raise ValueError("negative")


def test_an_append_deletes_the_acknowledged_events_in_its_own_transaction(tmp_path: Path) -> None:
    spool = open_spool(tmp_path)
    spool.append([Item(str(n)) for n in range(5)])
    statements: list[str] = []
    spool._db.set_trace_callback(statements.append)

    result = spool.append([Item("f")], delete_through=3)

    assert statements.count("COMMIT") == 1  # one commit (and fsync) for the write and the delete
    assert result.first_sequence == 6
    rows = spool.read(10)
    assert [row.sequence for row in rows] == [4, 5, 6]
    assert spool.stats().depth == 3
    assert spool.stats().bytes == sum(len(row.key) + len(row.payload) for row in rows)


def test_an_append_that_fails_keeps_the_acknowledged_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = open_spool(tmp_path)
    spool.append([Item(str(n)) for n in range(5)])
    before = spool.stats()

    def broken(name: str, value: int) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(spool, "_set_counter", broken)  # fails inside the transaction, after the delete
    with pytest.raises(sqlite3.OperationalError):
        spool.append([Item("f")], delete_through=3)

    assert [row.sequence for row in spool.read(10)] == [1, 2, 3, 4, 5]
    assert spool.stats() == before


async def test_acknowledged_events_leave_with_the_next_write_or_read_or_at_close(tmp_path: Path) -> None:
    spool = AsyncSpool(open_spool(tmp_path))
    await spool.append([Item(str(n)) for n in range(5)])

    spool.acknowledge(2)
    assert spool.stats.depth == 5  # nothing of its own: it waits for the next call
    with pytest.raises(ValueError, match="negative"):
        await spool.append([Negative()])  # a failed write deletes nothing and keeps the acknowledgement
    assert spool.stats.depth == 5
    await spool.append([Item("f")])
    assert spool.stats.depth == 4

    spool.acknowledge(4)
    spool.acknowledge(3)  # an older acknowledgement does not undo a newer one
    assert [row.sequence for row in await spool.read(10)] == [5, 6]
    spool.acknowledge(6)
    await spool.close()

    assert open_spool(tmp_path).stats().depth == 0
