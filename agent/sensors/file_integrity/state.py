"""What the sensor knows about one file: the row of the baseline and its ``os.lstat`` source."""

from __future__ import annotations

import os
import stat
from typing import Literal, NamedTuple

FileType = Literal["file", "dir", "symlink", "other"]


class FileState(NamedTuple):
    """A file's metadata and (for regular files) content hash at one moment; the tuple is the
    baseline's row, column for field.

    A named tuple rather than a dataclass: a scan builds, compares and stores one per file, and a tuple
    is built, compared (in C) and bound to SQLite several times faster than a frozen dataclass (~0.6
    against ~3 µs to build, measured), and the garbage collector stops tracking it once it has seen it
    hold only strings, numbers and None.

    ``ctime_ns`` is kept though it is never reported: a content write always moves it and nobody can set
    it back, so an unchanged (size, mtime, ctime, inode) lets a rescan trust the stored hash
    (:func:`unchanged_file`).
    """

    path: str
    type: FileType
    size: int
    mode: int
    uid: int
    gid: int
    inode: int
    device: int
    mtime_ns: int
    ctime_ns: int
    sha256: str | None = None
    hash_skipped_reason: str | None = None
    marking: str | None = None
    target_path: str | None = None


def file_type(mode: int) -> FileType:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "other"


def state_from_stat(
    path: str,
    st: os.stat_result,
    sha256: str | None = None,
    hash_skipped_reason: str | None = None,
    marking: str | None = None,
) -> FileState:
    """A state from ``lstat``, with the content facts when they are known (a scan builds one state per
    file, so the content is passed in rather than added to a copy)."""
    kind = file_type(st.st_mode)
    if kind == "file":
        return regular_file_state(path, st, sha256, hash_skipped_reason, marking)
    target = None
    if kind == "symlink":
        try:
            target = os.readlink(path)
        except OSError:
            target = None
    return FileState(
        path, kind, st.st_size, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_ino, st.st_dev,
        st.st_mtime_ns, st.st_ctime_ns, sha256, hash_skipped_reason, marking, target,
    )  # fmt: skip


def regular_file_state(
    path: str, st: os.stat_result, sha256: str | None, hash_skipped_reason: str | None, marking: str | None
) -> FileState:
    """:func:`state_from_stat` for a ``st`` known to be a regular file's: the scan's per-file path."""
    return FileState(
        path, "file", st.st_size, st.st_mode & 0o7777, st.st_uid, st.st_gid, st.st_ino, st.st_dev,
        st.st_mtime_ns, st.st_ctime_ns, sha256, hash_skipped_reason, marking, None,
    )  # fmt: skip


def unchanged_file(known: FileState | None, st: os.stat_result) -> bool:
    """Whether the regular file ``st`` describes certainly has the content ``known`` was hashed from
    (checked on the ``lstat`` result, before any state is built)."""
    return (
        known is not None
        and known.type == "file"
        and known.size == st.st_size
        and known.mtime_ns == st.st_mtime_ns
        and known.ctime_ns == st.st_ctime_ns
        and known.inode == st.st_ino
        and known.device == st.st_dev
    )
