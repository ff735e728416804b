"""Reading a process from /proc, fastest-vanishing facts first."""

from __future__ import annotations

import os

from agent.sensors.process.record import Record

_DELETED_SUFFIX = " (deleted)"


class ProcStat(Record):
    _fields = ("comm", "ppid", "start_ticks")
    __slots__ = _fields
    comm: str
    ppid: int
    start_ticks: int

    def __init__(self, comm: str, ppid: int, start_ticks: int) -> None:
        self._set(comm, ppid, start_ticks)


class ProcessSnapshot(Record):
    """What /proc said about a process; ``None`` where it was gone or unreadable.

    ``exe_key`` is (device, inode, mtime_ns) of the executable, read through ``/proc/PID/exe`` so it names
    the file actually executed even if the path was replaced since. ``executable_source`` says where
    ``executable`` came from: ``procfs``, or ``exec_open`` (fanotify) when the process was gone.
    """

    _fields = (
        "pid", "seen_ns", "executable", "exe_key", "args", "stat", "uid", "gid", "cwd", "executable_source",
    )  # fmt: skip
    __slots__ = _fields
    pid: int
    seen_ns: int
    executable: str | None
    exe_key: tuple[int, int, int] | None
    args: tuple[str, ...] | None
    stat: ProcStat | None
    uid: int | None
    gid: int | None
    cwd: str | None
    executable_source: str

    def __init__(
        self,
        pid: int,
        seen_ns: int,
        executable: str | None = None,
        exe_key: tuple[int, int, int] | None = None,
        args: tuple[str, ...] | None = None,
        stat: ProcStat | None = None,
        uid: int | None = None,
        gid: int | None = None,
        cwd: str | None = None,
        executable_source: str = "procfs",
    ) -> None:
        self._set(pid, seen_ns, executable, exe_key, args, stat, uid, gid, cwd, executable_source)


def read_link(path: str) -> str | None:
    try:
        target = os.readlink(path)
    except OSError:
        return None
    return target.removesuffix(_DELETED_SUFFIX)


def read_args(pid: int) -> tuple[str, ...] | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as stream:
            raw = stream.read()
    except OSError:
        return None
    if not raw:
        return None  # kernel threads and zombies
    return tuple(arg.decode("utf-8", "surrogateescape") for arg in raw.rstrip(b"\0").split(b"\0"))


def read_stat(pid: int) -> ProcStat | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stream:
            raw = stream.read()
    except OSError:
        return None
    # comm may itself contain spaces and parentheses: it ends at the last ')'.
    open_paren, close_paren = raw.find(b"("), raw.rfind(b")")
    rest = raw[close_paren + 2 :].split()
    try:
        return ProcStat(
            comm=raw[open_paren + 1 : close_paren].decode("utf-8", "replace"),
            ppid=int(rest[1]),
            start_ticks=int(rest[19]),
        )
    except (IndexError, ValueError):
        return None


def _read_ids(pid: int) -> tuple[int | None, int | None]:
    """Effective uid and gid (``Uid:``/``Gid:`` lines of status: real, effective, saved, fs)."""
    uid = gid = None
    try:
        with open(f"/proc/{pid}/status", "rb") as stream:
            for line in stream:
                if line.startswith(b"Uid:"):
                    uid = int(line.split()[2])
                elif line.startswith(b"Gid:"):
                    gid = int(line.split()[2])
                    break
    except (OSError, IndexError, ValueError):
        pass
    return uid, gid


def snapshot(pid: int, seen_ns: int) -> ProcessSnapshot:
    """Everything /proc still tells about ``pid``. A short-lived process may be gone halfway; what was
    read by then is kept, the executable first because it vanishes first (at exit, before the reap)."""
    executable = read_link(f"/proc/{pid}/exe")
    exe_key = None
    if executable is not None:
        try:
            st = os.stat(f"/proc/{pid}/exe")
            exe_key = (st.st_dev, st.st_ino, st.st_mtime_ns)
        except OSError:
            pass
    args = read_args(pid)
    stat = read_stat(pid)
    uid, gid = _read_ids(pid)
    return ProcessSnapshot(
        pid=pid,
        seen_ns=seen_ns,
        executable=executable,
        exe_key=exe_key,
        args=args,
        stat=stat,
        uid=uid,
        gid=gid,
        cwd=read_link(f"/proc/{pid}/cwd"),
    )
