"""Build valid contract events the way an agent would, for tests that feed the collector."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

from event_contract import encode_event, event_from_dict

_sequence = itertools.count(1)


def envelope(
    dataset: str,
    category: list[str],
    type_: list[str],
    *,
    action: str | None = None,
    outcome: str | None = None,
    host: str = "web01",
    agency: str = "so-tttt",
    security_level: int = 3,
    when: datetime | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "category": category,
        "type": type_,
        "dataset": dataset,
        "sequence": next(_sequence),
    }
    if action:
        meta["action"] = action
    if outcome:
        meta["outcome"] = outcome
    return {
        "@timestamp": (when or datetime.now(UTC)).isoformat(),
        "event": meta,
        "host": {"id": f"host-{host}", "name": host},
        "agent": {"id": f"agent-{host}", "version": "0.1.0"},
        "organization": {"id": agency, "name": agency.upper()},
        "canhgac": {"system": {"name": f"{agency} portal", "security_level": security_level}},
    }


def process_exec(executable: str, command_line: str, **kwargs: Any) -> dict[str, Any]:
    event = envelope("canhgac.process", ["process"], ["start"], action="exec", **kwargs)
    event["process"] = {
        "pid": 4242,
        "executable": executable,
        "name": executable.rsplit("/", 1)[-1],
        "command_line": command_line,
        "args": command_line.split(),
        "parent": {"pid": 1, "executable": "/usr/sbin/nginx"},
        "user": {"name": "www-data", "id": "33"},
    }
    event["user"] = {"name": "www-data", "id": "33"}
    return event


def ssh_failure(user: str, source_ip: str, **kwargs: Any) -> dict[str, Any]:
    event = envelope(
        "canhgac.authentication",
        ["authentication"],
        ["start"],
        action="ssh_login",
        outcome="failure",
        **kwargs,
    )
    event["message"] = f"sshd[811]: Failed password for {user} from {source_ip} port 50122 ssh2"
    event["user"] = {"name": user}
    event["source"] = {"ip": source_ip, "port": 50122}
    event["process"] = {"pid": 811, "name": "sshd"}
    return event


def encoded(event: dict[str, Any]) -> bytes:
    """Validated through the contract, so a test cannot send what an agent could not."""
    return encode_event(event_from_dict(event))
