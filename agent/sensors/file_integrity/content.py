"""Reading a file's content: streaming SHA-256 under a size cap, and the state-secret marking check.

Functions here run in the scanner's hashing threads, several at once.
"""

from __future__ import annotations

import errno
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import sha256

from agent.sensors.file_integrity.state import FileState, regular_file_state

# Longest first, so "TUYỆT MẬT" is not reported as plain "MẬT". Uppercase only: the markings are stamped
# in capitals, and the lowercase words are everyday Vietnamese ("mật" also means honey).
_MARKING = re.compile(r"(?<!\w)(TUYỆT MẬT|TỐI MẬT|MẬT)(?!\w)")
# Larger reads save system calls on large files; files smaller than this are read in one.
_CHUNK_BYTES = 1024 * 1024
_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK
_NOATIME = getattr(os, "O_NOATIME", 0)


def _nothing() -> None:
    """The default ``check`` of :func:`read_states`."""


@dataclass(frozen=True, slots=True)
class ContentPolicy:
    max_hash_bytes: int
    marking_enabled: bool
    marking_extensions: tuple[str, ...]
    marking_scan_bytes: int


def marking_in(head: bytes) -> str | None:
    """The strongest marking in the first bytes of a text file (UTF-8, possibly cut mid-character)."""
    text = unicodedata.normalize("NFC", head.decode("utf-8", errors="ignore"))
    found = {match.group(1) for match in _MARKING.finditer(text)}
    for marking in ("TUYỆT MẬT", "TỐI MẬT", "MẬT"):
        if marking in found:
            return marking
    return None


def read_states(
    files: list[tuple[str, os.stat_result]], policy: ContentPolicy, check: Callable[[], object] = _nothing
) -> list[FileState]:
    """The states of these regular files (each with the ``lstat`` it was found with) and their
    content, read with one buffer for the whole batch; ``check`` is called before each file (the
    scanner's abort check).

    A scan reads tens of thousands of mostly small files, so the per-file cost beyond hashing is what
    the Python code controls: one ``open``, ``readv`` into the batch's buffer until end of file (no
    buffered reader, no buffer allocated per file as ``hashlib.file_digest`` does), the marking taken
    from the same reads instead of a second open, and the state built here as one tuple. ``hashlib``
    releases the GIL while it hashes a chunk, so several threads running this use several cores."""
    view = buffer_for([st.st_size for _, st in files], policy)
    states = []
    for path, st in files:
        check()
        states.append(read_state(path, st, policy, view))
    return states


def buffer_for(sizes: list[int], policy: ContentPolicy) -> memoryview:
    """A read buffer for files of these sizes: the largest hashed one is read in one call, up to 1 MiB,
    with a byte to spare so that the call returns short, which says the file ended (:func:`read_state`).
    Reused file after file by one thread, never shared between threads."""
    largest = max((size for size in sizes if size <= policy.max_hash_bytes), default=0)
    return memoryview(bytearray(max(min(largest + 1, _CHUNK_BYTES), policy.marking_scan_bytes, 1)))


def read_state(path: str, st: os.stat_result, policy: ContentPolicy, view: memoryview) -> FileState:
    """One regular file's state: ``st`` and what its content says, read into ``view``."""
    head_bytes = 0
    if policy.marking_enabled and path.lower().endswith(policy.marking_extensions):
        head_bytes = policy.marking_scan_bytes
    size = st.st_size
    if size > policy.max_hash_bytes:
        reason = f"size {size} exceeds max_hash_bytes {policy.max_hash_bytes}"
        marking = _marking_of(path, head_bytes) if head_bytes else None
        return regular_file_state(path, st, None, reason, marking)
    buffers = (view,)
    try:
        descriptor = _open(path)
        try:
            # The first chunk goes to the constructor: an update() would allocate a lock per digest.
            read = os.readv(descriptor, buffers)
            digest = sha256(view[:read])
            head = view[: min(read, head_bytes)].tobytes()
            # A read shorter than asked that gave the size lstat found is the end of the file: no
            # second read to hear it (most files fit the buffer, which is one byte longer than them).
            if read != size or read == len(view):
                while read := os.readv(descriptor, buffers):
                    if len(head) < head_bytes:
                        head += view[: min(read, head_bytes - len(head))]
                    digest.update(view[:read])
        finally:
            os.close(descriptor)
    except OSError as error:  # also EISDIR: a file replaced by a directory since it was stat'ed
        return regular_file_state(path, st, None, f"unreadable: {error.strerror or error}", None)
    return regular_file_state(path, st, digest.hexdigest(), None, marking_in(head) if head_bytes else None)


def _marking_of(path: str, head_bytes: int) -> str | None:
    """The marking of a file too large to hash: only its start is read."""
    head = b""
    try:
        descriptor = _open(path)
        try:
            while len(head) < head_bytes and (chunk := os.read(descriptor, head_bytes - len(head))):
                head += chunk
        finally:
            os.close(descriptor)
    except OSError:
        return None
    return marking_in(head)


def _open(path: str) -> int:
    """Open for reading without updating the access time where the kernel allows it (the owner or
    CAP_FOWNER, which the agent has as root): a scan must not overwrite when each watched file was last
    read, which is evidence in an investigation, nor dirty every inode it reads. Non-blocking, so a file
    swapped for a FIFO between ``lstat`` and ``open`` reads as empty instead of hanging the scan (on a
    regular file the flag changes nothing)."""
    try:
        return os.open(path, _FLAGS | _NOATIME)
    except PermissionError as error:
        if error.errno != errno.EPERM or not _NOATIME:
            raise
        return os.open(path, _FLAGS)
