"""The input of every parser (one log line) and the builder of its observation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent.sensors.base import Observation
from event_contract.datasets import Dataset


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One line of an auth log: its program and message, and the raw line for ``message``."""

    timestamp: datetime
    program: str
    pid: int | None
    message: str
    raw: str


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None and value != {}}


def auth_observation(
    record: LogRecord,
    *,
    category: str,
    types: tuple[str, ...],
    action: str,
    outcome: str | None = None,
    user: str | None = None,
    user_id: str | None = None,
    target_user: str | None = None,
    target_user_id: str | None = None,
    group: str | None = None,
    group_id: str | None = None,
    source_ip: str | None = None,
    source_port: int | None = None,
    method: str | None = None,
    service: str | None = None,
    command_line: str | None = None,
    working_directory: str | None = None,
) -> Observation:
    """An authentication-dataset observation; ``message`` is always the raw line, ``process`` the
    program that logged it, ``related.user`` / ``related.ip`` every user and address named."""
    target = _drop_none({"name": target_user, "id": target_user_id})
    fields: dict[str, Any] = {
        "user": _drop_none({"name": user, "id": user_id, "target": target or None}),
        "group": _drop_none({"name": group, "id": group_id}),
        "source": _drop_none({"ip": source_ip, "port": source_port, "address": source_ip}),
        "canhgac": {"auth": _drop_none({"method": method, "service": service or record.program})},
    }
    if record.pid is not None:
        fields["process"] = _drop_none(
            {
                "pid": record.pid,
                "name": record.program,
                "command_line": command_line,
                "working_directory": working_directory,
            }
        )
    related = _drop_none(
        {
            "user": sorted({name for name in (user, target_user) if name}) or None,
            "ip": [source_ip] if source_ip else None,
        }
    )
    if related:
        fields["related"] = related
    return Observation(
        dataset=Dataset.AUTHENTICATION,
        category=(category,),
        type=types,
        action=action,
        timestamp=record.timestamp,
        fields=_drop_none(fields),
        outcome=outcome,
        message=record.raw,
    )
