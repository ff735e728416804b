"""The scanner hashes while it walks: files go to the pool a task at a time, before the walk ends."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent.sensors.file_integrity import scanner as scanner_module
from agent.sensors.file_integrity.content import ContentPolicy, read_states
from agent.sensors.file_integrity.scanner import Scanner
from agent.sensors.file_integrity.selection import PathSelection
from agent.sensors.file_integrity.state import FileState

_POLICY = ContentPolicy(1 << 30, marking_enabled=False, marking_extensions=(), marking_scan_bytes=4096)


def _tree(root: Path, files: int) -> dict[str, str]:
    expected = {}
    for index in range(files):
        path = root / f"d{index % 7}" / f"f{index:04d}"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"%d" % index * (index % 50 + 1))
        expected[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return expected


def test_the_first_task_is_hashed_before_the_walk_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _tree(tmp_path, 3 * scanner_module._TASK_MAX_FILES)
    walk_done = threading.Event()
    hashed_during_walk: list[bool] = []
    first_task_hashed = threading.Event()

    def recording(files: list[tuple[str, os.stat_result]], policy: ContentPolicy) -> list[FileState]:
        hashed_during_walk.append(not walk_done.is_set())
        first_task_hashed.set()
        return read_states(files, policy)

    selection = PathSelection([tmp_path], ["*"], [], recursive=True)
    real_walk = selection.walk

    def slow_end_walk(top: str) -> Iterator[object]:
        yield from real_walk(top)
        first_task_hashed.wait(10)  # the walk's last step outlasts the first task's hand-off
        walk_done.set()

    monkeypatch.setattr(scanner_module, "read_states", recording)
    monkeypatch.setattr(selection, "walk", slow_end_walk)
    scanner = Scanner(selection, _POLICY, workers=2, niceness=0)
    try:
        states = scanner.states_under(str(tmp_path), {})
    finally:
        scanner.close()
    assert {path: states[path].sha256 for path in expected} == expected
    assert len(hashed_during_walk) == 3
    assert hashed_during_walk[0]


@pytest.mark.parametrize(("files", "workers"), [(5, 2), (300, 1), (600, 2)])
def test_every_file_is_hashed_once_in_walk_order_whatever_the_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: int, workers: int
) -> None:
    expected = _tree(tmp_path, files)
    pooled_files: list[int] = []
    inline_files: list[int] = []

    def counting(
        batch: list[tuple[str, os.stat_result]], policy: ContentPolicy, *check: Callable[[], object]
    ) -> list[FileState]:
        in_pool = threading.current_thread().name.startswith("fim-hash")
        (pooled_files if in_pool else inline_files).append(len(batch))
        return read_states(batch, policy, *check)

    monkeypatch.setattr(scanner_module, "read_states", counting)
    scanner = Scanner(PathSelection([tmp_path], ["*"], [], recursive=True), _POLICY, workers, niceness=0)
    try:
        states = scanner.states_under(str(tmp_path), {})
    finally:
        scanner.close()
    assert {path: states[path].sha256 for path in expected} == expected
    pooled = workers > 1 and files > scanner_module._INLINE_MAX_FILES
    # Small batches and single workers are read inline, in the scanning thread.
    assert (sum(pooled_files), sum(inline_files)) == ((files, 0) if pooled else (0, files))
