"""Full contract-valid events from the compact samples in ``rules/samples/``.

A sample names only the fields that matter to its rule; the rest comes from ``tests.support.events``:

* ``file: {path: ...}`` (with ``action``, default ``creation``) makes a ``canhgac.file`` event;
* ``process: {executable: ..., command_line: ...}`` makes a ``canhgac.process`` exec event (user root
  unless ``user`` says otherwise);
* ``message: ...`` alone makes a ``canhgac.authentication`` event (``action`` default ``ssh_login``).

Any other key (``canhgac``, ``user``, ``source``, ``event``) is merged over the built event. Every event is
validated by the contract, so a sample cannot show the engine something an agent could not send.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from event_contract import event_from_dict
from tests.support.events import envelope, process_exec

_FILE_TYPES = {"creation": "creation", "deletion": "deletion"}
_BUILT_KEYS = {"file", "process", "message", "action", "outcome", "repeat", "after_s"}
SEQUENCE_START = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


class SampleError(ValueError):
    """A sample that does not say which kind of event it is, or builds an event the contract rejects."""


def deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = value
    return base


def _file_event(sample: Mapping[str, Any], when: datetime | None) -> dict[str, Any]:
    action = str(sample.get("action", "creation"))
    event = envelope("canhgac.file", ["file"], [_FILE_TYPES.get(action, "change")], action=action, when=when)
    path = str(sample["file"]["path"])
    event["file"] = {"path": path, "name": posixpath.basename(path), "directory": posixpath.dirname(path)}
    deep_merge(event["file"], sample["file"])
    return event


def _process_event(sample: Mapping[str, Any], when: datetime | None) -> dict[str, Any]:
    given = sample["process"]
    executable = str(given["executable"])
    event = process_exec(executable, str(given.get("command_line", executable)), when=when)
    root = {"name": "root", "id": "0"}
    event["user"], event["process"]["user"] = dict(root), dict(root)
    event["process"]["parent"] = {"pid": 1, "executable": "/usr/bin/bash"}
    deep_merge(event["process"], given)
    if "user" in sample:  # replaces root entirely: a merged uid would contradict the name
        event["user"], event["process"]["user"] = dict(sample["user"]), dict(sample["user"])
    return event


def _auth_event(sample: Mapping[str, Any], when: datetime | None) -> dict[str, Any]:
    event = envelope(
        "canhgac.authentication",
        ["authentication"],
        ["start"],
        action=str(sample.get("action", "ssh_login")),
        outcome=sample.get("outcome"),
        when=when,
    )
    event["message"] = str(sample["message"])
    return event


def build_event(sample: Mapping[str, Any], when: datetime | None = None) -> dict[str, Any]:
    if "file" in sample:
        event = _file_event(sample, when)
    elif "process" in sample:
        event = _process_event(sample, when)
    elif "message" in sample:
        event = _auth_event(sample, when)
    else:
        raise SampleError(f"a sample needs `file`, `process` or `message`: {dict(sample)}")
    deep_merge(event, {key: value for key, value in sample.items() if key not in _BUILT_KEYS})
    try:
        event_from_dict(event)
    except ValueError as error:
        raise SampleError(f"sample builds an event the contract rejects: {error}") from error
    return event


def _numbered(value: Any, n: int) -> Any:
    if isinstance(value, str):
        return value.replace("{n}", str(n))
    if isinstance(value, Mapping):
        return {key: _numbered(item, n) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbered(item, n) for item in value]
    return value


@dataclass(frozen=True)
class TimedEvent:
    event: dict[str, Any]
    when: datetime


def sequence_events(steps: Sequence[Mapping[str, Any]]) -> Iterator[TimedEvent]:
    """Each step is a sample plus ``repeat`` (default 1) and ``after_s`` (seconds since the previous event,
    default 1); ``{n}`` in a repeated step's strings becomes the repetition's number (0, 1, ...)."""
    when = SEQUENCE_START
    for step in steps:
        for n in range(int(step.get("repeat", 1))):
            when += timedelta(seconds=float(step.get("after_s", 1)))
            yield TimedEvent(build_event(_numbered(step, n), when), when)
