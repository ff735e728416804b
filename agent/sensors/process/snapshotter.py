"""Turning proc connector events into snapshots of /proc, and the messages of the listener process.

These run in the listener process (:mod:`agent.sensors.process.listener`); the types are also what the
agent unpickles, so they live in this importable module rather than in the ``__main__`` of that process.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from agent.sensors.process.connector import ExecEvent, ExitEvent, ForkEvent, ProcEvent
from agent.sensors.process.exec_opens import ExecOpens
from agent.sensors.process.procfs import ProcessSnapshot, ProcStat, read_args, read_link, read_stat, snapshot
from agent.sensors.process.record import Record

_PARENTS_CACHED = 4096
_FORKS_REMEMBERED = 65536


class ParentSnapshot(Record):
    _fields = ("pid", "executable", "args", "stat")
    __slots__ = _fields
    pid: int
    executable: str | None
    args: tuple[str, ...] | None
    stat: ProcStat | None

    def __init__(
        self, pid: int, executable: str | None, args: tuple[str, ...] | None, stat: ProcStat | None
    ) -> None:
        self._set(pid, executable, args, stat)


class ExecSeen(Record):
    _fields = ("process", "parent")
    __slots__ = _fields
    process: ProcessSnapshot
    parent: ParentSnapshot | None

    def __init__(self, process: ProcessSnapshot, parent: ParentSnapshot | None) -> None:
        self._set(process, parent)


class ExitSeen(Record):
    _fields = ("event", "stat", "seen_ns")
    __slots__ = _fields
    event: ExitEvent
    stat: ProcStat | None
    seen_ns: int

    def __init__(self, event: ExitEvent, stat: ProcStat | None, seen_ns: int) -> None:
        self._set(event, stat, seen_ns)


Seen = ExecSeen | ExitSeen


class Started(Record):
    """First message: the connector is subscribed; whether SCHED_FIFO was granted and whether fanotify
    exec opens back up /proc."""

    _fields = ("realtime", "exec_opens")
    __slots__ = _fields
    realtime: bool
    exec_opens: bool

    def __init__(self, realtime: bool, exec_opens: bool) -> None:
        self._set(realtime, exec_opens)


class Failed(Record):
    """First message when the connector cannot be opened."""

    _fields = ("errno", "reason")
    __slots__ = _fields
    errno: int
    reason: str

    def __init__(self, errno: int, reason: str) -> None:
        self._set(errno, reason)


class KernelDrops(Record):
    """The socket buffer overflowed (ENOBUFS) this many times since the last report."""

    _fields = ("count",)
    __slots__ = _fields
    count: int

    def __init__(self, count: int) -> None:
        self._set(count)


class Snapshotter:
    """Turns connector events into :data:`Seen` items, reading /proc at once."""

    def __init__(self, report_exits: bool, exec_opens: ExecOpens | None) -> None:
        self._report_exits = report_exits
        self._exec_opens = exec_opens
        self._parents: dict[int, ParentSnapshot] = {}
        self._forked_by: OrderedDict[int, int] = OrderedDict()

    def see(self, event: ProcEvent) -> Seen | None:
        """Call :meth:`ExecOpens.drain` first: the open of an executable precedes its exec event."""
        now = time.time_ns()
        if isinstance(event, ForkEvent):
            self._forked_by[event.pid] = event.parent_pid
            if len(self._forked_by) > _FORKS_REMEMBERED:
                self._forked_by.popitem(last=False)
            return None
        if isinstance(event, ExecEvent):
            process = snapshot(event.pid, now)
            if self._exec_opens is not None:
                program = self._exec_opens.program_of(event.pid)
                if process.executable is None and program is not None:
                    path, key = program
                    process = process._replace(executable=path, exe_key=key, executable_source="exec_open")
            # A process gone before /proc was read still has the parent its fork event named.
            ppid = process.stat.ppid if process.stat else self._forked_by.get(event.pid)
            return ExecSeen(process, self._parent(ppid) if ppid else None)
        self._forked_by.pop(event.pid, None)
        self._parents.pop(event.pid, None)
        if self._exec_opens is not None:
            self._exec_opens.forget(event.pid)
        if not self._report_exits:
            return None
        return ExitSeen(event, read_stat(event.pid), now)

    def _parent(self, ppid: int) -> ParentSnapshot | None:
        """The parent, re-read only when its pid now names another program (a shell running a loop of
        commands is read once)."""
        stat = read_stat(ppid)
        if stat is None:
            return None
        cached = self._parents.get(ppid)
        if cached is not None and cached.stat == stat:
            return cached
        parent = ParentSnapshot(ppid, read_link(f"/proc/{ppid}/exe"), read_args(ppid), stat)
        if len(self._parents) >= _PARENTS_CACHED:
            self._parents.clear()
        self._parents[ppid] = parent
        return parent
