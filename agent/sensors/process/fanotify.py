"""Opening the fanotify group that reports exec opens, in the agent, for the listener to read.

The listener process (:mod:`listener`) would need ``ctypes`` for ``fanotify_init`` and ``fanotify_mark``,
which the standard library does not wrap: ~0.7 MiB of its RSS (``ctypes``, ``_ctypes``, libffi) for two
calls at start. The agent has ``ctypes`` loaded anyway (``agent.memory``), so it opens and marks the group
and hands the descriptor to the listener it starts; the events are read, and their file descriptors
opened, by the process that reads the group, i.e. the listener. Needs CAP_SYS_ADMIN.
"""

from __future__ import annotations

import ctypes
import os

FAN_CLOEXEC = 0x1
FAN_NONBLOCK = 0x2
FAN_CLASS_NOTIF = 0x0
FAN_MARK_ADD = 0x1
FAN_MARK_MOUNT = 0x10
FAN_OPEN_EXEC = 0x1000
AT_FDCWD = -100
# Filesystems nobody executes programs from.
_PSEUDO_FILESYSTEMS = frozenset(
    {"proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "securityfs", "debugfs", "tracefs",
     "pstore", "bpf", "configfs", "fusectl", "binfmt_misc", "autofs", "hugetlbfs", "rpc_pipefs", "nsfs"}
)  # fmt: skip

# The C library this interpreter already loaded (``ctypes.util.find_library`` would import subprocess and
# friends to find the same file).
_libc = ctypes.CDLL(None, use_errno=True)
_libc.fanotify_init.argtypes = [ctypes.c_uint, ctypes.c_uint]
_libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64, ctypes.c_int, ctypes.c_char_p]
_libc.fanotify_init.restype = _libc.fanotify_mark.restype = ctypes.c_int


def _mount_points() -> list[bytes]:
    points: list[bytes] = []
    with open("/proc/self/mounts", "rb") as stream:
        for line in stream:
            fields = line.split()
            if len(fields) >= 3 and fields[2].decode() not in _PSEUDO_FILESYSTEMS:
                # /proc/self/mounts escapes spaces and the like as octal.
                points.append(fields[1].decode("unicode_escape").encode("latin-1"))
    return points


def open_exec_fanotify() -> int:
    """A non-blocking, close-on-exec fanotify descriptor reporting ``FAN_OPEN_EXEC`` on every mount
    that is not a pseudo filesystem; OSError without CAP_SYS_ADMIN, fanotify, or any mount marked."""
    flags = FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK
    fd: int = _libc.fanotify_init(flags, os.O_RDONLY | os.O_LARGEFILE)
    if fd < 0:
        error = ctypes.get_errno()
        raise OSError(error, f"fanotify_init: {os.strerror(error)}")
    marked = 0
    for point in _mount_points():
        if _libc.fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN_EXEC, AT_FDCWD, point) == 0:
            marked += 1
    if not marked:
        error = ctypes.get_errno()
        os.close(fd)
        raise OSError(error, "fanotify_mark: no mount could be marked")
    return fd
