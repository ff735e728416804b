"""The ECS shape of an alert document, for alerts this package raises itself (a silent agent) and for
tests that index alerts the way the alert sink does."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from collector.incidents.priority import SEVERITY_BY_LEVEL


def alert_document(
    *,
    alert_id: str,
    timestamp: datetime,
    created: datetime,
    rule: Mapping[str, Any],
    level: str,
    summary: str,
    host: Mapping[str, Any],
    organization: Mapping[str, Any],
    system: Mapping[str, Any] | None,
    agent_id: str | None = None,
    category: tuple[str, ...] = ("host",),
    event_type: tuple[str, ...] = ("info",),
    event_ids: tuple[str, ...] = (),
    correlation: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``@timestamp`` is the time of the triggering event, ``event.created`` the detection time."""
    severity = SEVERITY_BY_LEVEL[level]
    document: dict[str, Any] = {
        "@timestamp": timestamp.isoformat(),
        "message": f"{rule.get('name')}: {summary}",
        "event": {
            "kind": "alert",
            "id": alert_id,
            "category": list(category),
            "type": list(event_type),
            "dataset": "canhgac.alert",
            "module": "canhgac",
            "created": created.isoformat(),
            "severity": severity,
            "risk_score": float(severity),
            "reason": summary,
        },
        "rule": {"ruleset": "canhgac", **rule},
        "host": dict(host),
        "organization": dict(organization),
        "agent": {"id": agent_id} if agent_id else None,
        "canhgac": {
            "system": dict(system) if system else None,
            "alert": {
                "level": level,
                "status": "open",
                "event_ids": list(event_ids),
                "correlation": dict(correlation) if correlation else None,
                "incident_id": None,
                "acknowledged": None,
            },
        },
    }
    document.update(extra or {})
    return document
