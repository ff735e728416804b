"""Walking watched trees into file states, hashing only what may have changed, in worker threads."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from stat import S_ISREG

from agent.sensors.file_integrity.content import ContentPolicy, read_states
from agent.sensors.file_integrity.selection import PathSelection
from agent.sensors.file_integrity.state import FileState, regular_file_state, state_from_stat, unchanged_file

# A file to read: its path and the lstat it was found with.
_Stat = tuple[str, os.stat_result]

# Below this much work a pool costs more than it saves.
_INLINE_MAX_FILES = 32
_INLINE_MAX_BYTES = 32 * 1024 * 1024
# One pool task: enough files to amortise the hand-off, small enough to spread over the workers.
_TASK_MAX_FILES = 256
_TASK_MAX_BYTES = 64 * 1024 * 1024
_WORKER_NICENESS = 10


def _ignore(states: list[FileState]) -> None:
    """The default ``found`` of :meth:`Scanner.states_under`: the caller takes the returned dict."""


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
    The throttle: ``workers`` (the ``hash_workers`` setting; 0 = one per CPU) and ``niceness``, the nice
    value the hashing threads add to the agent's (default 10 in production, so a busy host's own work
    goes first; benchmarks pass 0 to measure the unthrottled rate, as AIDE runs).
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

    def states_under(
        self, top: str, known: dict[str, FileState], found: Callable[[list[FileState]], object] = _ignore
    ) -> dict[str, FileState]:
        """Current states of ``top`` and, for a directory, everything wanted below it. ``found`` gets
        them too, in this thread, a batch at a time as they become final (those of the walk, then each
        task's), so the caller can store them while later tasks are still being hashed.

        Hashing overlaps the walk: each task's worth of files to read goes to the pool as soon as the
        walk has found it (the walk is Python work holding the GIL; hashing and reading release it), so
        a first scan costs about the longer of the two rather than their sum. A file's state is built
        once, from its ``lstat`` and its content (by the hashing thread for pooled files)."""
        states: dict[str, FileState] = {}
        reads = _Reads(self)
        aborted = self._aborted.is_set
        try:
            for path, st in self._selection.walk(top):
                if aborted():
                    raise ScanAborted
                if not S_ISREG(st.st_mode):
                    states[path] = state_from_stat(path, st)
                    continue
                previous = known.get(path)
                if previous is not None and unchanged_file(previous, st):
                    states[path] = regular_file_state(
                        path, st, previous.sha256, previous.hash_skipped_reason, previous.marking
                    )
                else:
                    reads.add(path, st)
            found(list(states.values()))
            for batch in reads.results():
                found(batch)
                states.update({state.path: state for state in batch})
        finally:
            reads.close()
        return states

    def _read_inline(self, files: list[_Stat]) -> list[FileState]:
        return read_states(files, self._policy, self._check)

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


class _Reads:
    """The files one ``states_under`` must read, handed to the scanner's pool a task at a time while
    the walk goes on; a batch too small to be worth a pool is read inline at the end.

    Stopping the pool when done (not waited for: after an abort a thread may finish the file it is
    reading, harmlessly): the threads would otherwise sit idle until the next scan, maybe an hour away."""

    def __init__(self, scanner: Scanner) -> None:
        self._scanner = scanner
        self._policy = scanner._policy
        self._pooled = scanner._workers > 1
        self._submitted: list[Future[list[FileState]]] = []
        self._task: list[_Stat] = []
        self._task_bytes = 0
        self._pool: Executor | None = None

    def add(self, path: str, st: os.stat_result) -> None:
        cost = st.st_size if st.st_size <= self._policy.max_hash_bytes else 0
        full = len(self._task) >= _TASK_MAX_FILES or self._task_bytes + cost > _TASK_MAX_BYTES
        if self._pooled and self._task and full:
            self._submit()
        self._task.append((path, st))
        self._task_bytes += cost

    def _submit(self) -> None:
        if self._pool is None:
            self._pool = self._scanner._ensure_pool()
        # One task: the files' states with their contents, built in the hashing thread.
        self._submitted.append(self._pool.submit(read_states, self._task, self._policy))
        self._task, self._task_bytes = [], 0

    def results(self) -> Iterator[list[FileState]]:
        """The states of every added file, in the order added, a task at a time as each is done."""
        small = len(self._task) <= _INLINE_MAX_FILES and self._task_bytes <= _INLINE_MAX_BYTES
        if self._task and self._pooled and not (small and not self._submitted):
            self._submit()
        for future in self._submitted:
            self._scanner._check()
            yield future.result()
        self._scanner._check()  # aborted while the last task was hashed: the scan is not complete either
        if self._task:  # a small batch, or no pool at all
            yield self._scanner._read_inline(self._task)

    def close(self) -> None:
        if self._pool is not None:
            self._scanner._pool = None
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
