"""The process sensor: exec and exit events from the kernel, enriched from /proc."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from agent.config_types import ProcessConfig
from agent.sensors.base import Observation
from agent.sensors.process.exe_hash import ExecutableHashes
from agent.sensors.process.identity import BootClock
from agent.sensors.process.observation import KnownProcess, exec_observation, exit_observation
from agent.sensors.process.receiver import ConnectorReceiver, ConnectorUnavailable, wake_loop
from agent.sensors.process.snapshotter import ExecSeen, Seen
from event_contract.wire_types import SensorHealthWire as SensorHealth

if TYPE_CHECKING:
    from agent.sensors.process.poller import ProcessPoller

log = logging.getLogger(__name__)

_KNOWN_PROCESSES_MAX = 65536


class ProcessSensor:
    """Reports every exec (``exec``, type start) and process exit (``end``, type end, with exit code).

    Source: the netlink proc connector, read by a small listener process (compiled where installed,
    else Python; real-time priority, backed by fanotify exec opens) that snapshots /proc the moment an
    exec is announced and hands batches to a reader thread here (see :mod:`agent.sensors.process.listener`
    for why a process). Without it (no privilege, no kernel support, or ``source: poll``), or if it dies,
    a psutil process-list comparison every ``poll_interval_s``, reported as ``degraded``. Executable
    hashes are computed in a worker thread and cached per file version. ``state_dir`` is unused:
    processes need no state across restarts.
    """

    name = "process"

    def __init__(self, config: ProcessConfig, state_dir: Path) -> None:
        self.config = config
        self._health = SensorHealth(status="ok" if config.enabled else "disabled")
        self._hashes = ExecutableHashes(config.hash_cache_size, config.max_hash_bytes)
        self._known: OrderedDict[int, KnownProcess] = OrderedDict()
        self._receiver: ConnectorReceiver | None = None
        self._late_reads = {"exec_open": 0, "unknown": 0}
        self.started = asyncio.Event()
        """Set once the source is live: every process started after that is reported."""

    def health(self) -> SensorHealth:
        receiver = self._receiver
        if receiver is not None and (receiver.kernel_drops or receiver.queue_drops):
            return SensorHealth(
                status="degraded",
                detail=f"events lost: {receiver.kernel_drops} socket overflows, "
                f"{receiver.queue_drops} dropped behind a full queue",
            )
        return self._health

    @property
    def counters(self) -> dict[str, int]:
        """Events received from the listener, lost in the kernel or behind a full queue; executables
        known only from fanotify (process gone before /proc was read) or not at all; hashes computed."""
        receiver = self._receiver
        return {
            "received": receiver.received if receiver else 0,
            "kernel_drops": receiver.kernel_drops if receiver else 0,
            "queue_drops": receiver.queue_drops if receiver else 0,
            "executable_from_exec_open": self._late_reads["exec_open"],
            "executable_unknown": self._late_reads["unknown"],
            "hashes_computed": self._hashes.computed,
        }

    async def observe(self) -> AsyncIterator[Observation]:
        if not self.config.enabled:
            return
        loop = asyncio.get_running_loop()
        clock = BootClock.of_this_host()
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="process-sensor")
        ready = asyncio.Event()
        poller: ProcessPoller | None = None
        try:
            self._receiver = await loop.run_in_executor(worker, self._start_receiver, wake_loop(loop, ready))
            if self._receiver is None:
                poller = _new_poller()
                await loop.run_in_executor(worker, poller.poll)
            self.started.set()
            while True:
                if poller is None and self._receiver is not None:
                    await ready.wait()
                    ready.clear()
                    batch = self._receiver.drain()
                    if self._receiver.ended and not batch:
                        poller = await self._fall_back(loop, worker)
                else:
                    assert poller is not None
                    await asyncio.sleep(self.config.poll_interval_s)
                    batch = await loop.run_in_executor(worker, poller.poll)
                for seen in batch:
                    yield await self._observation(seen, clock, loop, worker)
        finally:
            if self._receiver is not None:
                await asyncio.shield(loop.run_in_executor(None, self._receiver.stop))
            worker.shutdown(wait=False, cancel_futures=True)

    async def _fall_back(self, loop: asyncio.AbstractEventLoop, worker: ThreadPoolExecutor) -> ProcessPoller:
        assert self._receiver is not None
        status = self._receiver.exit_status
        log.error("proc connector process ended (status %s): polling instead", status)
        self._health = SensorHealth(
            status="degraded",
            detail=f"proc connector process ended (status {status}); polling every "
            f"{self.config.poll_interval_s:g}s misses short-lived processes",
        )
        poller = _new_poller()
        await loop.run_in_executor(worker, poller.poll)
        return poller

    def _start_receiver(self, on_ready: Callable[[], object]) -> ConnectorReceiver | None:
        """The running connector receiver, or None (health says why) when polling must do. Blocking."""
        if self.config.source == "poll":
            self._health = SensorHealth(status="degraded", detail="polling by configuration")
            return None
        receiver = ConnectorReceiver(
            self.config.socket_buffer_bytes,
            self.config.realtime_priority,
            self.config.report_exits,
            self.config.queue_size,
            on_ready,
        )
        try:
            receiver.start()
        except ConnectorUnavailable as error:
            if self.config.source == "netlink":
                raise
            log.warning("proc connector unavailable (%s): polling instead", error)
            self._health = SensorHealth(
                status="degraded",
                detail=f"proc connector unavailable ({error}); polling every "
                f"{self.config.poll_interval_s:g}s misses short-lived processes",
            )
            return None
        # Which listener runs: the compiled one, or the Python one (~8 MiB more) where it was not built
        # (no cargo at install) or could not run.
        if receiver.listener == "native":
            details = ["native listener"]
        elif receiver.native_failure is not None:
            details = [f"Python listener (native one did not start: {receiver.native_failure})"]
        else:
            details = ["Python listener (native one not installed)"]
        missing = []
        if self.config.realtime_priority and not receiver.realtime:
            missing.append("real-time priority")
        if not receiver.exec_opens:
            missing.append("fanotify")
        if missing:
            details.append(
                f"{' and '.join(missing)} refused: short-lived processes may lose their executable"
            )
        self._health = SensorHealth(status="ok", detail="; ".join(details))
        return receiver

    async def _observation(
        self, seen: Seen, clock: BootClock, loop: asyncio.AbstractEventLoop, worker: ThreadPoolExecutor
    ) -> Observation:
        if not isinstance(seen, ExecSeen):
            return exit_observation(seen, clock, self._known.pop(seen.event.pid, None))
        sha256 = None
        snap = seen.process
        if snap.executable is None:
            self._late_reads["unknown"] += 1
        elif snap.executable_source == "exec_open":
            self._late_reads["exec_open"] += 1
        if self.config.hash_executables and snap.exe_key is not None and snap.executable is not None:
            known, sha256 = self._hashes.cached(snap.exe_key)
            if not known:
                with contextlib.suppress(OSError):
                    sha256 = await loop.run_in_executor(
                        worker, self._hashes.hash, snap.exe_key, snap.pid, snap.executable
                    )
        observation, known_process = exec_observation(seen, clock, sha256)
        self._known[snap.pid] = known_process
        if len(self._known) > _KNOWN_PROCESSES_MAX:
            self._known.popitem(last=False)
        return observation


def _new_poller() -> ProcessPoller:
    """The psutil fallback, imported only when needed: an agent on the proc connector never loads psutil."""
    from agent.sensors.process.poller import ProcessPoller

    return ProcessPoller()
