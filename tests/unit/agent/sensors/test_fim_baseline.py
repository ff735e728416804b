"""The baseline store: rows written through either insert statement read back as the states written."""

from __future__ import annotations

from pathlib import Path

from agent.sensors.file_integrity.baseline import BaselineStore
from agent.sensors.file_integrity.state import FileState

_HASHED = FileState("/w/a", "file", 3, 0o644, 0, 0, 10, 1, 5, 6, "a" * 64)
_MARKED = FileState("/w/b.txt", "file", 9, 0o600, 1, 2, 11, 1, 7, 8, "b" * 64, None, "MẬT")
_CAPPED = FileState("/w/c", "file", 10**9, 0o644, 0, 0, 12, 1, 9, 9, None, "size 1000000000 exceeds …")
_LINK = FileState("/w/l", "symlink", 1, 0o777, 0, 0, 13, 1, 9, 9, target_path="a")
_DIR = FileState("/w", "dir", 4096, 0o755, 0, 0, 14, 1, 9, 9)


def test_every_kind_of_row_reads_back_as_written(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path / "b.sqlite3")
    try:
        with store.transaction() as writer:
            writer.upsert([_HASHED, _MARKED, _CAPPED, _LINK, _DIR])
        assert store.all() == {state.path: state for state in (_HASHED, _MARKED, _CAPPED, _LINK, _DIR)}
        assert isinstance(store.get("/w/a"), FileState)
    finally:
        store.close()


def test_a_usual_row_replacing_one_with_extras_leaves_them_null(tmp_path: Path) -> None:
    # The usual row is written without its trailing columns: the replaced row's must not survive.
    store = BaselineStore(tmp_path / "b.sqlite3")
    try:
        with store.transaction() as writer:
            writer.upsert([_MARKED, _CAPPED])
        unmarked = _MARKED._replace(marking=None)
        hashed = _CAPPED._replace(size=3, sha256="c" * 64, hash_skipped_reason=None)
        with store.transaction() as writer:
            writer.upsert([unmarked, hashed])
        assert store.get(_MARKED.path) == unmarked
        assert store.get(_CAPPED.path) == hashed
        row = store._db.execute("SELECT marking FROM baseline WHERE path = ?", (_MARKED.path,)).fetchone()
        assert row == (None,)
    finally:
        store.close()
