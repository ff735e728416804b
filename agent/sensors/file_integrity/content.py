"""Reading a file's content: streaming SHA-256 under a size cap, and the state-secret marking check.

Functions here run in the scanner's hashing threads, several at once.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass

# Longest first, so "TUYỆT MẬT" is not reported as plain "MẬT". Uppercase only: the markings are stamped
# in capitals, and the lowercase words are everyday Vietnamese ("mật" also means honey).
_MARKING = re.compile(r"(?<!\w)(TUYỆT MẬT|TỐI MẬT|MẬT)(?!\w)")
# Larger reads save system calls on large files; files smaller than this are read in one.
_CHUNK_BYTES = 1024 * 1024
_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK
_NOATIME = getattr(os, "O_NOATIME", 0)


@dataclass(frozen=True, slots=True)
class ContentPolicy:
    max_hash_bytes: int
    marking_enabled: bool
    marking_extensions: tuple[str, ...]
    marking_scan_bytes: int


@dataclass(frozen=True, slots=True)
class Content:
    sha256: str | None
    hash_skipped_reason: str | None
    marking: str | None


def marking_in(head: bytes) -> str | None:
    """The strongest marking in the first bytes of a text file (UTF-8, possibly cut mid-character)."""
    text = unicodedata.normalize("NFC", head.decode("utf-8", errors="ignore"))
    found = {match.group(1) for match in _MARKING.finditer(text)}
    for marking in ("TUYỆT MẬT", "TỐI MẬT", "MẬT"):
        if marking in found:
            return marking
    return None


def read_content(path: str, size: int, policy: ContentPolicy, buffer: memoryview | None = None) -> Content:
    """One file's content facts, read into ``buffer`` (from :func:`buffer_for`) when given."""
    return _content(path, size, policy, buffer_for([size], policy) if buffer is None else buffer)


def read_contents(files: list[tuple[str, int]], policy: ContentPolicy) -> list[Content]:
    """The content facts of each (path, size), read with one buffer for the whole batch.

    A scan reads tens of thousands of mostly small files, so the per-file cost beyond hashing is what
    the Python code controls: one ``open``, ``readv`` into the batch's buffer until end of file (no
    buffered reader, no buffer allocated per file as ``hashlib.file_digest`` does), and the marking
    taken from the same reads instead of a second open. ``hashlib`` releases the GIL while it hashes a
    chunk, so several threads running this use several cores."""
    buffer = buffer_for([size for _, size in files], policy)
    return [_content(path, size, policy, buffer) for path, size in files]


def buffer_for(sizes: list[int], policy: ContentPolicy) -> memoryview:
    """A read buffer for files of these sizes: the largest hashed one is read in one call, up to 1 MiB.
    Reused file after file by one thread, never shared between threads."""
    largest = max((size for size in sizes if size <= policy.max_hash_bytes), default=0)
    return memoryview(bytearray(max(min(largest, _CHUNK_BYTES), policy.marking_scan_bytes, 1)))


def _content(path: str, size: int, policy: ContentPolicy, view: memoryview) -> Content:
    head_bytes = _head_bytes(path, policy)
    if size > policy.max_hash_bytes:
        reason = f"size {size} exceeds max_hash_bytes {policy.max_hash_bytes}"
        return Content(None, reason, _marking_of(path, head_bytes) if head_bytes else None)
    head = b""
    try:
        descriptor = _open(path)
        try:
            digest = hashlib.sha256()
            while read := os.readv(descriptor, (view,)):
                if len(head) < head_bytes:
                    head += view[: min(read, head_bytes - len(head))]
                digest.update(view[:read])
        finally:
            os.close(descriptor)
    except OSError as error:  # also EISDIR: a file replaced by a directory since it was stat'ed
        return Content(None, f"unreadable: {error.strerror or error}", None)
    return Content(digest.hexdigest(), None, marking_in(head) if head_bytes else None)


def _head_bytes(path: str, policy: ContentPolicy) -> int:
    """How much of the file's start the marking check reads: 0 when it does not apply."""
    if policy.marking_enabled and path.lower().endswith(policy.marking_extensions):
        return policy.marking_scan_bytes
    return 0


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
