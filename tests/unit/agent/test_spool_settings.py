"""The SQLite settings the spool's guarantees and CPU depend on."""

from __future__ import annotations

from pathlib import Path

from agent.spool import SPOOL_FILE, Spool


def test_commits_are_synced_and_deletes_do_not_zero_freed_pages(tmp_path: Path) -> None:
    spool = Spool(tmp_path / SPOOL_FILE, max_rows=1000, max_bytes=10**6, policy="drop_oldest")

    assert spool._db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert spool._db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL: an fsync per commit
    assert spool._db.execute("PRAGMA secure_delete").fetchone() == (2,)  # FAST, not Debian's default ON
