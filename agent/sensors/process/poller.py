"""The fallback source: comparing process lists (psutil) when the proc connector is unavailable."""

from __future__ import annotations

import time

import psutil

from agent.sensors.process.connector import ExitEvent
from agent.sensors.process.procfs import read_stat, snapshot
from agent.sensors.process.snapshotter import ExecSeen, ExitSeen, ParentSnapshot, Seen


class ProcessPoller:
    """Each ``poll`` returns the processes started and ended since the previous one.

    Processes living less than the poll interval are missed and exit codes are unknown: that is why the
    sensor reports ``degraded`` while polling. The first poll only records what runs. Blocking; call from a
    worker thread.
    """

    def __init__(self) -> None:
        self._known: set[int] | None = None

    def poll(self) -> list[Seen]:
        current = set(psutil.pids())
        if self._known is None:
            self._known = current
            return []
        now = time.time_ns()
        seen: list[Seen] = []
        for pid in sorted(current - self._known):
            process = snapshot(pid, now)
            parent = None
            if process.stat is not None:
                ppid = process.stat.ppid
                try:
                    parent_process = psutil.Process(ppid)
                    parent = ParentSnapshot(
                        ppid, parent_process.exe() or None, tuple(parent_process.cmdline()), read_stat(ppid)
                    )
                except psutil.Error:
                    parent = None
            seen.append(ExecSeen(process, parent))
        seen.extend(ExitSeen(ExitEvent(pid, None), None, now) for pid in sorted(self._known - current))
        self._known = current
        return seen
