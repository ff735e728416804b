"""Turning what was seen of a process into the ``process`` and ``user`` groups of a ProcessEvent."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agent.sensors.base import Observation
from agent.sensors.process.accounts import group_name, user_name
from agent.sensors.process.identity import BootClock
from agent.sensors.process.snapshotter import ExecSeen, ExitSeen
from event_contract.datasets import Dataset


@dataclass(frozen=True, slots=True)
class KnownProcess:
    """What an exit event can reuse from the exec of the same process."""

    entity_id: str | None
    executable: str | None
    name: str | None
    args: tuple[str, ...] | None
    start: datetime | None


def _command_line(args: tuple[str, ...] | None) -> str | None:
    return shlex.join(args) if args else None


def _at(seen_ns: int) -> datetime:
    return datetime.fromtimestamp(seen_ns / 1e9, tz=UTC)


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def exec_observation(
    seen: ExecSeen, clock: BootClock, sha256: str | None
) -> tuple[Observation, KnownProcess]:
    """The exec observation, and what to remember of the process for its exit.

    When the process was gone before its executable could be read, ``process.executable`` is left out,
    ``process.name`` comes from the kernel's comm (if that was still readable) and ``message`` says so.
    """
    snap = seen.process
    stat = snap.stat
    entity_id = clock.entity_id(snap.pid, stat.start_ticks) if stat else None
    start = clock.start_time(stat.start_ticks) if stat else None
    name = os.path.basename(snap.executable) if snap.executable else (stat.comm if stat else None)
    user = _drop_none({"id": _str(snap.uid), "name": user_name(snap.uid) if snap.uid is not None else None})
    group = _drop_none({"id": _str(snap.gid), "name": group_name(snap.gid) if snap.gid is not None else None})
    process: dict[str, Any] = {
        "pid": snap.pid,
        "entity_id": entity_id,
        "executable": snap.executable,
        "name": name,
        "args": list(snap.args) if snap.args else None,
        "args_count": len(snap.args) if snap.args else None,
        "command_line": _command_line(snap.args),
        "working_directory": snap.cwd,
        "start": start,
        "user": user or None,
        "group": group or None,
        "hash": {"sha256": sha256} if sha256 else None,
        "parent": _parent_fields(seen, clock),
    }
    message = None
    if snap.executable_source == "exec_open":
        message = (
            f"process {snap.pid} exited before /proc was read; executable from its exec open (fanotify), "
            "other details may be missing"
        )
    elif snap.executable is None:
        source = "its comm" if stat else "nothing: /proc had nothing left"
        message = f"process {snap.pid} exited before its executable could be read; name from {source}"
    observation = Observation(
        dataset=Dataset.PROCESS,
        category=("process",),
        type=("start",),
        action="exec",
        timestamp=_at(snap.seen_ns),
        fields=_drop_none({"process": _drop_none(process), "user": user or None}),
        message=message,
    )
    return observation, KnownProcess(entity_id, snap.executable, name, snap.args, start)


def _parent_fields(seen: ExecSeen, clock: BootClock) -> dict[str, Any] | None:
    parent = seen.parent
    if parent is None:
        return {"pid": seen.process.stat.ppid} if seen.process.stat else None
    return _drop_none(
        {
            "pid": parent.pid,
            "entity_id": clock.entity_id(parent.pid, parent.stat.start_ticks) if parent.stat else None,
            "executable": parent.executable,
            "name": os.path.basename(parent.executable)
            if parent.executable
            else (parent.stat.comm if parent.stat else None),
            "args": list(parent.args) if parent.args else None,
            "command_line": _command_line(parent.args),
        }
    )


def exit_observation(seen: ExitSeen, clock: BootClock, known: KnownProcess | None) -> Observation:
    stat = seen.stat
    process: dict[str, Any] = {
        "pid": seen.event.pid,
        "exit_code": seen.event.exit_code,
        "end": _at(seen.seen_ns),
        "name": stat.comm if stat else None,
        "entity_id": clock.entity_id(seen.event.pid, stat.start_ticks) if stat else None,
        "start": clock.start_time(stat.start_ticks) if stat else None,
    }
    if known is not None:
        process.update(
            _drop_none(
                {
                    "entity_id": known.entity_id,
                    "executable": known.executable,
                    "name": known.name,
                    "args": list(known.args) if known.args else None,
                    "command_line": _command_line(known.args),
                    "start": known.start,
                }
            )
        )
    return Observation(
        dataset=Dataset.PROCESS,
        category=("process",),
        type=("end",),
        action="end",
        timestamp=_at(seen.seen_ns),
        fields={"process": _drop_none(process)},
    )


def _str(value: int | None) -> str | None:
    return None if value is None else str(value)
