"""What the sensor knows about one file: the row of the baseline and its ``os.lstat`` source."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Literal

FileType = Literal["file", "dir", "symlink", "other"]


@dataclass(frozen=True, slots=True)
class FileState:
    """A file's metadata and (for regular files) content hash at one moment.

    ``ctime_ns`` is kept though it is never reported: a content write always moves it and nobody can set
    it back, so an unchanged (size, mtime, ctime, inode) lets a rescan trust the stored hash.
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

    def same_stat(self, other: FileState) -> bool:
        """True when ``other`` certainly has the content this state was hashed from."""
        return (
            self.type == other.type
            and self.size == other.size
            and self.mtime_ns == other.mtime_ns
            and self.ctime_ns == other.ctime_ns
            and self.inode == other.inode
            and self.device == other.device
        )

    def with_content(
        self, sha256: str | None, hash_skipped_reason: str | None, marking: str | None
    ) -> FileState:
        """This stat with its content's facts. (Not ``dataclasses.replace``: scans call this per file.)"""
        return FileState(
            self.path, self.type, self.size, self.mode, self.uid, self.gid, self.inode, self.device,
            self.mtime_ns, self.ctime_ns, sha256, hash_skipped_reason, marking, self.target_path,
        )  # fmt: skip

    def with_content_of(self, other: FileState) -> FileState:
        """This stat with the hash and marking already known for ``other``."""
        return self.with_content(other.sha256, other.hash_skipped_reason, other.marking)


def file_type(mode: int) -> FileType:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "other"


def state_from_stat(path: str, st: os.stat_result) -> FileState:
    """The metadata part of a state; hashing and marking are added by the scanner."""
    kind = file_type(st.st_mode)
    target = None
    if kind == "symlink":
        try:
            target = os.readlink(path)
        except OSError:
            target = None
    return FileState(
        path=path,
        type=kind,
        size=st.st_size,
        mode=stat.S_IMODE(st.st_mode),
        uid=st.st_uid,
        gid=st.st_gid,
        inode=st.st_ino,
        device=st.st_dev,
        mtime_ns=st.st_mtime_ns,
        ctime_ns=st.st_ctime_ns,
        target_path=target,
    )
