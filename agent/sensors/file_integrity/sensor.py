"""The file integrity sensor: inotify for speed, a persisted baseline and rescans for completeness."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agent.config_types import FileIntegrityConfig
from agent.memory import release_free_memory
from agent.sensors.base import Observation
from agent.sensors.file_integrity.baseline import BaselineStore
from agent.sensors.file_integrity.content import ContentPolicy
from agent.sensors.file_integrity.debounce import Debouncer
from agent.sensors.file_integrity.diff import Change
from agent.sensors.file_integrity.observation import to_observation
from agent.sensors.file_integrity.reconciler import Reconciler
from agent.sensors.file_integrity.scanner import Scanner
from agent.sensors.file_integrity.selection import PathSelection
from agent.sensors.file_integrity.watcher import ChangeWatcher, WatchLimitReached
from event_contract.wire_types import SensorHealthWire as SensorHealth

log = logging.getLogger(__name__)

# A file written without pause is still looked at this many debounce periods after its first write.
_MAX_DELAY_FACTOR = 20


def _observations(changes: list[Change]) -> list[Observation]:
    """The changes as observations, emptying ``changes``: while the sensor sleeps between yields and
    scans, neither the list nor a loop variable keeps a scan's file states alive."""
    observations = [to_observation(change) for change in changes]
    changes.clear()
    return observations


def _release_scan_memory(baseline: BaselineStore) -> None:
    baseline.shrink_memory()
    release_free_memory()


class FileIntegritySensor:
    """Reports creation, modification, attribute change, deletion and rename of watched files.

    At start it rescans every root against the baseline in ``state_dir`` (so changes made while the
    agent was stopped are reported; the very first scan only records the baseline), then follows inotify,
    looking at each touched path once it has been quiet for ``debounce_s``, and rescans every
    ``rescan_interval_s`` and after an inotify queue overflow. If the watch limit is hit it reports
    ``degraded`` and rescans every ``fallback_rescan_interval_s`` instead. All disk and SQLite work runs in
    one worker thread (hashing of large batches in niced threads of the scanner), never on the event loop.
    """

    name = "file_integrity"

    def __init__(self, config: FileIntegrityConfig, state_dir: Path) -> None:
        self.config = config
        self._state_dir = state_dir
        self._selection = PathSelection(config.paths, config.include, config.exclude, config.recursive)
        self._policy = ContentPolicy(
            max_hash_bytes=config.max_hash_bytes,
            marking_enabled=config.marking_enabled,
            marking_extensions=tuple(ext.lower() for ext in config.marking_extensions),
            marking_scan_bytes=config.marking_scan_bytes,
        )
        self._health = SensorHealth(status="ok" if config.enabled else "disabled")
        self._debouncer = Debouncer(config.debounce_s, config.debounce_s * _MAX_DELAY_FACTOR)
        self._wakeup = asyncio.Event()
        self._overflowed = False
        self.scans_completed = 0
        self._overflows = 0
        self._changes = 0
        self.started = asyncio.Event()
        """Set once the start-up scan is done and watching: later changes are reported."""

    def health(self) -> SensorHealth:
        return self._health

    @property
    def counters(self) -> dict[str, int]:
        """Full scans, inotify overflows met, changes reported."""
        return {"scans": self.scans_completed, "overflows": self._overflows, "changes": self._changes}

    async def observe(self) -> AsyncIterator[Observation]:
        if not self.config.enabled:
            return
        loop = asyncio.get_running_loop()
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fim")
        baseline = await loop.run_in_executor(worker, BaselineStore, self._state_dir / "fim_baseline.sqlite3")
        scanner = Scanner(self._selection, self._policy, self.config.hash_workers)
        reconciler = Reconciler(baseline, scanner, self._selection)
        watcher = ChangeWatcher(
            self._selection.roots,
            self.config.recursive,
            on_path=lambda path: loop.call_soon_threadsafe(self._touch, path),
            on_overflow=lambda: loop.call_soon_threadsafe(self._overflow),
        )
        try:
            # Watch before scanning, so nothing changed during the scan slips between the two.
            rescan_interval = await self._start_watching(loop, worker, watcher)
            changes, first_run = await loop.run_in_executor(worker, reconciler.full_scan)
            self.scans_completed += 1
            if first_run:
                log.info("file integrity baseline recorded (%d changes not reported)", len(changes))
            else:
                for observation in _observations(changes):
                    self._changes += 1
                    yield observation
            changes.clear()  # the first run's are not reported: garbage, like the scan's other states
            await loop.run_in_executor(worker, _release_scan_memory, baseline)
            next_rescan = time.monotonic() + rescan_interval
            self.started.set()
            while True:
                await self._sleep_until(next_rescan)
                full_scan = self._overflowed or time.monotonic() >= next_rescan
                if full_scan:
                    self._overflowed = False
                    # The scan covers what was touched before it; what is touched during it stays queued.
                    self._debouncer.clear()
                    changes, _ = await loop.run_in_executor(worker, reconciler.full_scan)
                    self.scans_completed += 1
                    appeared = await loop.run_in_executor(worker, watcher.roots_appeared)
                    if appeared:
                        # A root created since (say /root/.ssh): watch it from now on.
                        await loop.run_in_executor(worker, watcher.stop)
                        rescan_interval = await self._start_watching(loop, worker, watcher)
                    next_rescan = time.monotonic() + rescan_interval
                else:
                    due = self._debouncer.due(time.monotonic())
                    changes = await loop.run_in_executor(worker, reconciler.reconcile, due) if due else []
                for observation in _observations(changes):
                    self._changes += 1
                    yield observation
                if full_scan:
                    await loop.run_in_executor(worker, _release_scan_memory, baseline)
        finally:
            await asyncio.shield(self._release(loop, worker, watcher, scanner, baseline))

    async def _start_watching(
        self, loop: asyncio.AbstractEventLoop, worker: ThreadPoolExecutor, watcher: ChangeWatcher
    ) -> float:
        """Start inotify (adding watches walks the trees, so off the loop); the rescan interval to use."""
        if not self.config.realtime:
            return self.config.rescan_interval_s
        try:
            await loop.run_in_executor(worker, watcher.start)
        except WatchLimitReached as error:
            self._health = SensorHealth(
                status="degraded",
                detail=f"real-time watching unavailable ({error}); rescanning every "
                f"{self.config.fallback_rescan_interval_s:g}s",
            )
            return self.config.fallback_rescan_interval_s
        absent = ", ".join(watcher.missing_roots)
        self._health = SensorHealth(status="ok", detail=f"paths absent: {absent}" if absent else None)
        return self.config.rescan_interval_s

    def _touch(self, path: str) -> None:
        self._debouncer.touch(path, time.monotonic())
        self._wakeup.set()

    def _overflow(self) -> None:
        self._overflows += 1
        self._overflowed = True
        self._wakeup.set()

    async def _sleep_until(self, next_rescan: float) -> None:
        """Until a debounced path is due, the next rescan, or an overflow."""
        while True:
            now = time.monotonic()
            deadline = min(next_rescan, self._debouncer.next_deadline() or next_rescan)
            if self._overflowed or deadline <= now:
                return
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=deadline - now)

    @staticmethod
    async def _release(
        loop: asyncio.AbstractEventLoop,
        worker: ThreadPoolExecutor,
        watcher: ChangeWatcher,
        scanner: Scanner,
        baseline: BaselineStore,
    ) -> None:
        def release() -> None:
            watcher.stop()
            scanner.close()
            baseline.close()

        scanner.abort()  # a scan still running in the worker gives up, so release comes soon
        await loop.run_in_executor(worker, release)
        worker.shutdown(wait=False)
