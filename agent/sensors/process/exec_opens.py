"""Which file each process opened to execute it, from fanotify ``FAN_OPEN_EXEC``.

The proc connector says only "pid N called exec"; a process that exits before /proc/N/exe is read leaves
no trace of its program. fanotify reports the opening of the executable with an open descriptor of the
file itself, so the path can be resolved later, however short the process. It needs CAP_SYS_ADMIN;
without it the listener simply has no fallback. The agent opens the fanotify group (:mod:`fanotify`,
which needs ``ctypes``) and the listener, given its descriptor, reads it here.
"""

from __future__ import annotations

import os
import struct
from collections import OrderedDict

# Not from exe_hash: this module runs in the listener process, where hashlib would cost ~4 MiB of RSS.
ExeKey = tuple[int, int, int]
"""(device, inode, mtime_ns): a rewritten or replaced binary gets a new key."""

FAN_Q_OVERFLOW = 0x4000
_METADATA = struct.Struct("=IBBHQii")
_READ_SIZE = 64 * 1024
_PIDS_REMEMBERED = 8192
# The ELF interpreter is opened for exec right after the program: it is never the program.
_LOADER_PREFIXES = ("ld-linux", "ld-musl", "ld.so", "ld64.so")


class ExecOpens:
    """Remembers, per pid, the programs opened for exec since that pid's last exec was reported, read
    from the fanotify descriptor ``fd`` (:func:`agent.sensors.process.fanotify.open_exec_fanotify`).

    ``fileno`` is for ``select``/``poll``; ``drain`` reads what is queued (non-blocking); ``program_of``
    pops what a pid opened and returns the program (the last opened file that is not the ELF loader: for
    a script that is its interpreter, as /proc/PID/exe would say). ``close`` releases the descriptor.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._opened: OrderedDict[int, list[tuple[str, ExeKey]]] = OrderedDict()
        self.overflows = 0

    def fileno(self) -> int:
        return self._fd

    def close(self) -> None:
        os.close(self._fd)

    def drain(self) -> None:
        while True:
            try:
                buffer = os.read(self._fd, _READ_SIZE)
            except BlockingIOError:
                return
            offset = 0
            while offset + _METADATA.size <= len(buffer):
                length, _version, _reserved, _header, mask, fd, pid = _METADATA.unpack_from(buffer, offset)
                if length < _METADATA.size:
                    return
                offset += length
                if mask & FAN_Q_OVERFLOW or fd < 0:
                    self.overflows += 1
                    continue
                try:
                    path = os.readlink(f"/proc/self/fd/{fd}")
                    st = os.fstat(fd)
                except OSError:
                    continue
                finally:
                    os.close(fd)
                self._remember(pid, (path, (st.st_dev, st.st_ino, st.st_mtime_ns)))

    def _remember(self, pid: int, opened: tuple[str, ExeKey]) -> None:
        paths = self._opened.get(pid)
        if paths is None:
            paths = self._opened[pid] = []
            if len(self._opened) > _PIDS_REMEMBERED:
                self._opened.popitem(last=False)
        paths.append(opened)

    def forget(self, pid: int) -> None:
        self._opened.pop(pid, None)

    def program_of(self, pid: int) -> tuple[str, ExeKey] | None:
        """The program's path and (device, inode, mtime_ns)."""
        opened = self._opened.pop(pid, None)
        if not opened:
            return None
        programs = [item for item in opened if not os.path.basename(item[0]).startswith(_LOADER_PREFIXES)]
        return programs[-1] if programs else opened[-1]
