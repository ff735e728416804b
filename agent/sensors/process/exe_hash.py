"""SHA-256 of executables, computed once per file version."""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict

from agent.sensors.process.exec_opens import ExeKey

__all__ = ["ExeKey", "ExecutableHashes"]


class ExecutableHashes:
    """An LRU cache of executable hashes keyed by :data:`ExeKey`.

    ``hash`` blocks (it reads the file): call it from a worker thread. It reads through
    ``/proc/PID/exe`` while the process lives (the exact file executed, even if deleted or replaced),
    otherwise the path, and keeps the result only if the file read still has the key it was asked for.
    Not thread-safe: one worker thread at a time.
    """

    def __init__(self, capacity: int, max_bytes: int) -> None:
        self._capacity = capacity
        self._max_bytes = max_bytes
        self._hashes: OrderedDict[ExeKey, str | None] = OrderedDict()
        self.computed = 0

    def cached(self, key: ExeKey) -> tuple[bool, str | None]:
        if key in self._hashes:
            self._hashes.move_to_end(key)
            return True, self._hashes[key]
        return False, None

    def hash(self, key: ExeKey, pid: int, path: str) -> str | None:
        known, digest = self.cached(key)
        if known:
            return digest
        digest = None
        for candidate in (f"/proc/{pid}/exe", path):
            try:
                with open(candidate, "rb") as stream:
                    st = os.fstat(stream.fileno())
                    if (st.st_dev, st.st_ino, st.st_mtime_ns) != key:
                        continue
                    if st.st_size <= self._max_bytes:
                        digest = hashlib.file_digest(stream, "sha256").hexdigest()
                    break
            except OSError:
                continue
        else:
            return None  # neither the process nor the same file is left: do not cache a miss
        self.computed += 1
        if self._capacity:
            self._hashes[key] = digest
            if len(self._hashes) > self._capacity:
                self._hashes.popitem(last=False)
        return digest
