"""Audit entries: ECS documents for the append-only ``<prefix>audit-YYYY.MM`` indices."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from collector.incidents.actor import Actor


def audit_entry(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str,
    agency: str | None,
    at: datetime,
    from_value: object = None,
    to_value: object = None,
    reason: str | None = None,
    replay_key: str | None = None,
) -> dict[str, Any]:
    """One change. ``replay_key`` makes the entry id deterministic, for changes a replay may repeat; human
    actions get a random id (each is a distinct act)."""
    if replay_key is None:
        entry_id = str(uuid.uuid4())
    else:
        entry_id = "audit-" + hashlib.sha256(replay_key.encode()).hexdigest()[:32]
    change = f"from {_text(from_value)} to {_text(to_value)}" if from_value or to_value else ""
    return {
        "@timestamp": at.isoformat(),
        "message": " ".join(part for part in (actor.name, action, object_type, object_id, change) if part),
        "event": {
            "id": entry_id,
            "kind": "event",
            "category": ["configuration"],
            "type": ["change"],
            "action": action,
            "dataset": "canhgac.audit",
            "module": "canhgac",
        },
        "user": {"name": actor.name, "roles": [actor.role]},
        "organization": {"id": agency} if agency else None,
        "canhgac": {
            "audit": {
                "object_type": object_type,
                "object_id": object_id,
                "from_value": _text(from_value),
                "to_value": _text(to_value),
                "reason": reason,
            }
        },
    }


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(item) for item in value)
    return str(value)
