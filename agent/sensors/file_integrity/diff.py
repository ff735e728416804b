"""Comparing two sets of file states: what was created, modified, re-permissioned, deleted or renamed."""

from __future__ import annotations

from typing import Literal, NamedTuple

from agent.sensors.file_integrity.state import FileState

ChangeAction = Literal["creation", "modification", "attributes_modification", "deletion", "rename"]


class Change(NamedTuple):
    """One change of one path (a named tuple, as :class:`FileState`: a first scan builds one per file)."""

    action: ChangeAction
    old: FileState | None
    new: FileState | None
    changed_fields: tuple[str, ...] = ()


def changed_fields(old: FileState, new: FileState) -> tuple[str, ...]:
    """ECS names of the fields that differ; a directory's size and mtime follow its children, so they
    are ignored."""
    found: list[str] = []
    if old.type != new.type:
        found.append("type")
    if new.type != "dir":
        # When neither side is hashed (too large, unreadable), size and mtime are all there is to go on.
        if old.sha256 != new.sha256:
            found.append("hash.sha256")
        if old.size != new.size:
            found.append("size")
        if old.mtime_ns != new.mtime_ns:
            found.append("mtime")
        if old.target_path != new.target_path:
            found.append("target_path")
    if old.mode != new.mode:
        found.append("mode")
    if old.uid != new.uid:
        found.append("uid")
    if old.gid != new.gid:
        found.append("gid")
    if old.inode != new.inode or old.device != new.device:
        found.append("inode")
    return tuple(found)


_CONTENT_FIELDS = frozenset({"type", "hash.sha256", "size", "target_path"})


def compare(old: FileState, new: FileState) -> Change | None:
    """The change from ``old`` to ``new`` at the same path, or None when nothing reportable differs."""
    fields = changed_fields(old, new)
    if not fields:
        return None
    content_fields = _CONTENT_FIELDS
    if old.type == "file" and (old.sha256 is None or new.sha256 is None):
        # Without both hashes a new mtime may be new content: say so rather than miss a modification.
        content_fields = _CONTENT_FIELDS | {"mtime"}
    action: ChangeAction = "modification" if content_fields & set(fields) else "attributes_modification"
    return Change(action, old, new, fields)


def _same_file(old: FileState, new: FileState) -> bool:
    """Whether a vanished and an appeared path are one file moved: same inode, and the same content when
    both are hashed (an inode freed by a deletion can be reused by an unrelated new file)."""
    if (old.device, old.inode, old.type) != (new.device, new.inode, new.type):
        return False
    if old.sha256 is not None and new.sha256 is not None:
        return old.sha256 == new.sha256
    return old.type == "dir" or old.size == new.size


def diff(before: dict[str, FileState], after: dict[str, FileState]) -> list[Change]:
    """All changes from ``before`` to ``after`` (both keyed by path), renames paired by inode.

    Changes are ordered by path, renames by new path, so a report is stable for the same input.
    """
    changes: list[Change] = []
    for path in sorted(before.keys() & after.keys()):
        was, now = before[path], after[path]
        if was == now:  # one tuple comparison, in C: most paths of a rescan
            continue
        change = compare(was, now)
        if change is not None:
            changes.append(change)

    vanished: dict[tuple[int, int], list[FileState]] = {}
    for path in sorted(before.keys() - after.keys()):
        state = before[path]
        vanished.setdefault((state.device, state.inode), []).append(state)
    appeared = sorted(after.keys() - before.keys())
    if not vanished:  # no rename to pair (a first scan, where every path is new)
        changes.extend([Change("creation", None, after[path]) for path in appeared])
        return changes
    for path in appeared:
        new = after[path]
        candidates = vanished.get((new.device, new.inode), [])
        old = next((state for state in candidates if _same_file(state, new)), None)
        if old is None:
            changes.append(Change("creation", None, new))
            continue
        candidates.remove(old)
        moved_fields = ("path", *(name for name in changed_fields(old, new) if name != "inode"))
        changes.append(Change("rename", old, new, moved_fields))
    deleted = sorted((state for states in vanished.values() for state in states), key=lambda s: s.path)
    changes.extend(Change("deletion", state, None) for state in deleted)
    return changes
