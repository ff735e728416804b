"""Walking watched trees into file states, hashing only what may have changed, in worker threads."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Executor, ThreadPoolExecutor

from agent.sensors.file_integrity.content import Content, ContentPolicy, read_content, read_contents
from agent.sensors.file_integrity.selection import PathSelection
from agent.sensors.file_integrity.state import FileState, state_from_stat

# Below this much work a pool costs more than it saves.
_INLINE_MAX_FILES = 32
_INLINE_MAX_BYTES = 32 * 1024 * 1024
# One pool task: enough files to amortise the hand-off, small enough to spread over the workers.
_TASK_MAX_FILES = 256
_TASK_MAX_BYTES = 64 * 1024 * 1024
_WORKER_NICENESS = 10


class ScanAborted(Exception):
    """The scan was abandoned because the sensor is stopping."""


class Scanner:
    """Turns paths into :class:`FileState` s.

    A file whose (size, mtime, ctime, inode) equals its known state keeps the known hash: a content
    write always moves ctime. Large batches are hashed by a pool of niced threads, created for the batch
    and stopped after it: ``hashlib`` releases the GIL while it hashes a chunk (and ``read`` while it
    reads), so threads use every core as worker processes would, without pickling, and without helper
    processes holding tens of MiB between hourly scans (measured: 2 pool workers, a forkserver and a
    resource tracker added ~100 MiB RSS to an idle agent, at the same scan rate).
    Not thread-safe, except ``abort()``: callable from any thread, it makes the scan in progress (and any
    later one) raise :class:`ScanAborted` soon, so stopping the sensor does not wait for a long scan.
    ``close()`` stops the pool.
    """

    def __init__(
        self, selection: PathSelection, policy: ContentPolicy, workers: int, niceness: int = _WORKER_NICENESS
    ) -> None:
        self._selection = selection
        self._policy = policy
        self._workers = workers or os.cpu_count() or 1
        self._niceness = niceness
        self._pool: Executor | None = None
        self._aborted = threading.Event()

    def abort(self) -> None:
        self._aborted.set()

    def _check(self) -> None:
        if self._aborted.is_set():
            raise ScanAborted

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def states_under(self, top: str, known: dict[str, FileState]) -> dict[str, FileState]:
        """Current states of ``top`` and, for a directory, everything wanted below it."""
        states: dict[str, FileState] = {}
        to_read: list[FileState] = []
        for path, st in self._selection.walk(top):
            self._check()
            state = state_from_stat(path, st)
            previous = known.get(path)
            if state.type != "file":
                states[path] = state
            elif previous is not None and previous.same_stat(state):
                states[path] = state.with_content_of(previous)
            else:
                to_read.append(state)
        for state, content in zip(to_read, self._read(to_read), strict=True):
            states[state.path] = _with_content(state, content)
        return states

    def _read(self, files: list[FileState]) -> list[Content]:
        hashed_bytes = sum(state.size for state in files if state.size <= self._policy.max_hash_bytes)
        if self._workers <= 1 or (len(files) <= _INLINE_MAX_FILES and hashed_bytes <= _INLINE_MAX_BYTES):
            contents = []
            for state in files:
                self._check()
                contents.append(read_content(state.path, state.size, self._policy))
            return contents
        pool = self._ensure_pool()
        futures = [pool.submit(read_contents, task, self._policy) for task in _tasks(files, self._policy)]
        results: list[Content] = []
        try:
            for future in futures:
                self._check()
                results.extend(future.result())
        finally:
            # Stopped after each batch: the threads would sit idle until the next scan, maybe an hour away.
            # Not waited for: after an abort a thread may finish the file it is reading, harmlessly.
            self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
        return results

    def _ensure_pool(self) -> Executor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self._workers,
                thread_name_prefix="fim-hash",
                initializer=_yield_to_the_host,
                initargs=(self._niceness,),
            )
        return self._pool


def _yield_to_the_host(niceness: int) -> None:
    """Hashing threads run niced (on Linux a thread has its own nice value): on an idle host they use
    every core, on a busy one they wait. A benchmark passes 0 to measure the unthrottled rate."""
    os.nice(niceness)


def _tasks(files: list[FileState], policy: ContentPolicy) -> list[list[tuple[str, int]]]:
    tasks: list[list[tuple[str, int]]] = [[]]
    task_bytes = 0
    for state in files:
        cost = state.size if state.size <= policy.max_hash_bytes else 0
        if tasks[-1] and (len(tasks[-1]) >= _TASK_MAX_FILES or task_bytes + cost > _TASK_MAX_BYTES):
            tasks.append([])
            task_bytes = 0
        tasks[-1].append((state.path, state.size))
        task_bytes += cost
    return tasks


def _with_content(state: FileState, content: Content) -> FileState:
    return state.with_content(content.sha256, content.hash_skipped_reason, content.marking)
