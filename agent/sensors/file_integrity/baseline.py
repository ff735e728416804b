"""The baseline: the last known state of every watched path, kept in SQLite in the state directory."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.sensors.file_integrity.state import FileState

# A FileState is its row: the columns are its fields, in order.
_COLUMNS = FileState._fields
_STATE = FileState._make
# Column names come from the named tuple, never from input, so building the statements is safe.
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM baseline"  # noqa: S608
_PLACEHOLDERS = ", ".join("?" for _ in _COLUMNS)
_UPSERT = f"INSERT OR REPLACE INTO baseline ({', '.join(_COLUMNS)}) VALUES ({_PLACEHOLDERS})"  # noqa: S608
# The usual row, a hashed regular file with no skip reason, marking or link target, without its three
# trailing NULLs: INSERT OR REPLACE leaves an omitted column NULL, so the row stored is the same, and
# sqlite3 binds a None through its adapter lookup (~0.7 µs each, measured) while an int or str is bound
# directly. The rows are plain tuples (a slice): a tuple subclass is bound item by item through the
# sequence protocol, ~1.7 µs a row more.
_HASHED = _COLUMNS.index("sha256") + 1
_UPSERT_HASHED = (
    f"INSERT OR REPLACE INTO baseline ({', '.join(_COLUMNS[:_HASHED])}) "  # noqa: S608
    f"VALUES ({', '.join('?' for _ in _COLUMNS[:_HASHED])})"
)
_CACHE_KIB = 16 * 1024
_NO_EXTRAS = (None,) * (len(_COLUMNS) - _HASHED)
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS baseline (
    {", ".join(f"{name} {'TEXT PRIMARY KEY' if name == 'path' else ''}" for name in _COLUMNS)}
) WITHOUT ROWID
"""


class BaselineStore:
    """Path → :class:`FileState`, durable across agent restarts.

    Not thread-safe: the sensor touches it from one worker thread only. A scan writes in one
    ``transaction``, so a crash leaves either the old or the new state of a batch, never half of it.
    """

    def __init__(self, database: Path) -> None:
        database.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        # A scan writes every row in one transaction; with SQLite's default 2 MiB of page cache a baseline
        # larger than that spills pages to the WAL before the commit (~1-2 µs of CPU a row more, measured
        # on 20,000 rows). shrink_memory() gives the pages back after each full scan.
        self._db.execute(f"PRAGMA cache_size={-_CACHE_KIB}")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def shrink_memory(self) -> None:
        """Free this connection's page cache: after a full scan it holds up to ``cache_size`` of pages
        that the next full scan (maybe an hour away) would read again anyway."""
        self._db.execute("PRAGMA shrink_memory")

    def is_empty(self) -> bool:
        return self._db.execute("SELECT 1 FROM baseline LIMIT 1").fetchone() is None

    def get(self, path: str) -> FileState | None:
        row = self._db.execute(_SELECT + " WHERE path = ?", (path,)).fetchone()
        return _STATE(row) if row else None

    def under(self, path: str) -> dict[str, FileState]:
        """The entry for ``path`` and every entry below it (``path`` as a directory)."""
        prefix = path.rstrip("/") + "/"
        # '0' sorts right after '/', so the range is exactly the paths starting with prefix.
        rows = self._db.execute(
            _SELECT + " WHERE path = ? OR (path >= ? AND path < ?)",
            (path, prefix, prefix[:-1] + "0"),
        )
        return {row[0]: _STATE(row) for row in rows}

    def all(self) -> dict[str, FileState]:
        rows = self._db.execute(_SELECT)
        return {row[0]: _STATE(row) for row in rows}

    @contextmanager
    def transaction(self) -> Iterator[BaselineWriter]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        self._db.execute("BEGIN")
        try:
            yield BaselineWriter(self._db)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


class BaselineWriter:
    """Writes inside one :meth:`BaselineStore.transaction` (a scan streams its states here while
    its hashing threads are still at work, so the SQLite work overlaps theirs)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def upsert(self, states: Iterable[FileState]) -> None:
        usual: list[tuple[object, ...]] = []
        other: list[tuple[object, ...]] = []
        for state in states:
            if state.sha256 is not None and state[_HASHED:] == _NO_EXTRAS:
                usual.append(state[:_HASHED])
            else:
                other.append(state[:])
        self._db.executemany(_UPSERT_HASHED, usual)
        self._db.executemany(_UPSERT, other)

    def delete(self, paths: Iterable[str]) -> None:
        self._db.executemany("DELETE FROM baseline WHERE path = ?", ((path,) for path in paths))
