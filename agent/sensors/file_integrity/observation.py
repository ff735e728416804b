"""Turning a :class:`Change` into the ``file`` and ``canhgac.file`` groups of a FileEvent."""

from __future__ import annotations

import grp
import os
import pwd
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from agent.sensors.base import Observation
from agent.sensors.file_integrity.diff import Change
from agent.sensors.file_integrity.state import FileState
from event_contract.datasets import Dataset

_EVENT_TYPE = {
    "creation": "creation",
    "modification": "change",
    "attributes_modification": "change",
    "deletion": "deletion",
    "rename": "change",
}


@lru_cache(maxsize=1024)
def _owner(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


@lru_cache(maxsize=1024)
def _group(gid: int) -> str | None:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return None


def _mode(mode: int) -> str:
    return f"0{mode:03o}"


def _mtime(state: FileState) -> datetime:
    return datetime.fromtimestamp(state.mtime_ns / 1e9, tz=UTC)


def _file_fields(state: FileState) -> dict[str, Any]:
    name = os.path.basename(state.path)
    extension = os.path.splitext(name)[1].lstrip(".")
    fields: dict[str, Any] = {
        "path": state.path,
        "name": name,
        "directory": os.path.dirname(state.path),
        "type": state.type,
        "size": state.size,
        "mode": _mode(state.mode),
        "uid": str(state.uid),
        "gid": str(state.gid),
        "owner": _owner(state.uid),
        "group": _group(state.gid),
        "inode": str(state.inode),
        "mtime": _mtime(state),
    }
    if extension and state.type == "file":
        fields["extension"] = extension
    if state.sha256 is not None:
        fields["hash"] = {"sha256": state.sha256}
    if state.target_path is not None:
        fields["target_path"] = state.target_path
    return fields


# Which previous values to report for each changed field.
_PREVIOUS_OF: dict[str, tuple[str, ...]] = {
    "path": ("path",),
    "hash.sha256": ("hash",),
    "size": ("size",),
    "mtime": ("mtime",),
    "mode": ("mode",),
    "uid": ("uid", "owner"),
    "gid": ("gid", "group"),
    "inode": ("inode",),
}


def _previous(old: FileState, changed: tuple[str, ...]) -> dict[str, Any]:
    values = _file_fields(old)
    previous: dict[str, Any] = {}
    for name in changed:
        for key in _PREVIOUS_OF.get(name, ()):
            if values.get(key) is not None:
                previous[key] = values[key]
    return previous


def to_observation(change: Change, now: datetime | None = None) -> Observation:
    current = change.new or change.old
    assert current is not None, "a change has an old or a new state"
    extra: dict[str, Any] = {}
    if change.old is not None and change.new is not None:
        extra["previous"] = _previous(change.old, change.changed_fields)
        extra["changed_fields"] = list(change.changed_fields)
    if current.hash_skipped_reason is not None:
        extra["hash_skipped_reason"] = current.hash_skipped_reason
    if current.marking is not None:
        extra["classification_marking"] = current.marking
    fields: dict[str, Any] = {"file": _file_fields(current)}
    if extra:
        fields["canhgac"] = {"file": extra}
    return Observation(
        dataset=Dataset.FILE,
        category=("file",),
        type=(_EVENT_TYPE[change.action],),
        action=change.action,
        timestamp=now or datetime.now(UTC),
        fields=fields,
    )
