"""The collector's built-in integrity rules and the alerts they raise.

Two families: *origin* (the message was not signed by the key enrolled for the agent and host it claims)
and *sequence* (an enrolled agent's ``event.sequence`` skipped numbers or reused one). Rule ids are fixed
forever: incidents group by them and analysts filter on them. Alert ids are derived from the rule and the
event that revealed the finding, so a replayed batch writes nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from collector.alerts import CARRIED_GROUPS, alert_event, alert_id, event_time
from collector.incidents.priority import SEVERITY_BY_LEVEL
from collector.sinks import Document


@dataclass(frozen=True, slots=True)
class BuiltinRule:
    id: str
    name: str
    level: str
    description: str


ORIGIN_UNSIGNED = BuiltinRule(
    "302b773c-17a1-49a3-bab7-a7803cbb9c9d",
    "Unsigned event on the events topic",
    "high",
    "A valid event arrived without a signature. Every enrolled agent signs each message, so this came "
    "from an unenrolled or outdated agent, or from someone else holding credentials to write to Kafka.",
)
ORIGIN_UNKNOWN_KEY = BuiltinRule(
    "ea14acff-6124-4996-a198-49d74b378db5",
    "Event signed with a key that is not enrolled",
    "high",
    "The event names a signing key the collector's keyring does not hold: a new agent not yet "
    "registered, an agent whose state directory was recreated, a revoked key, or a forger.",
)
ORIGIN_BAD_SIGNATURE = BuiltinRule(
    "57e98baa-bae9-46ac-bf47-5fb34d499fb7",
    "Event signature does not verify",
    "high",
    "The signature does not match the message under the enrolled key: the message was altered after the "
    "agent signed it, or it was signed with a different key under this key's id.",
)
ORIGIN_IDENTITY_MISMATCH = BuiltinRule(
    "879a478e-0da6-4da8-9bd6-4a7417c3f740",
    "Agent sent an event as another agent or host",
    "critical",
    "The message is correctly signed by an enrolled key, but claims an agent id or host name that key "
    "was not enrolled for: that agent (or whoever holds its key) is impersonating another one.",
)
SEQUENCE_GAP = BuiltinRule(
    "4b9eecc9-96c9-4cae-87bd-c86397eb44ca",
    "Missing events from an agent",
    "medium",
    "An enrolled agent's event sequence numbers jumped: the events in between never reached the "
    "collector. The agent's spool drops its oldest events when full (its heartbeat reports "
    "canhgac.health.spool.dropped); otherwise events were removed on the way.",
)
SEQUENCE_REPLAY = BuiltinRule(
    "5378cd5f-aa71-4319-a9c7-6301da90f603",
    "Replayed event sequence number",
    "high",
    "An enrolled agent's sequence number arrived again with a different event id: the agent's state "
    "was restored or cloned (two hosts sharing one identity), or its key is used by someone else.",
)

BUILTIN_RULES = (
    ORIGIN_UNSIGNED,
    ORIGIN_UNKNOWN_KEY,
    ORIGIN_BAD_SIGNATURE,
    ORIGIN_IDENTITY_MISMATCH,
    SEQUENCE_GAP,
    SEQUENCE_REPLAY,
)


def integrity_alert(
    rule: BuiltinRule,
    event: Mapping[str, Any],
    detail: str,
    now: datetime,
    extra: Mapping[str, Any] | None = None,
) -> Document:
    """An alert about ``event`` (the one that revealed the finding); ``detail`` says what was found."""
    meta = event.get("event") if isinstance(event.get("event"), Mapping) else {}
    assert isinstance(meta, Mapping)
    source_id = str(meta.get("id", ""))
    identifier = alert_id(rule.id, source_id)
    severity = SEVERITY_BY_LEVEL[rule.level]
    canhgac = event.get("canhgac") if isinstance(event.get("canhgac"), Mapping) else {}
    assert isinstance(canhgac, Mapping)
    body: dict[str, Any] = {group: event[group] for group in CARRIED_GROUPS if group in event}
    host = (event.get("host") or {}).get("name", "?")
    body.update(
        {
            "@timestamp": event.get("@timestamp") or now.isoformat(),
            "message": f"{rule.name}: {detail} (host {host})"[:1000],
            "event": alert_event(identifier, severity, detail, now),
            "rule": {
                "id": rule.id,
                "name": rule.name,
                "description": rule.description,
                "ruleset": "canhgac",
                "category": "integrity",
            },
            "canhgac": {
                "system": canhgac.get("system"),
                "origin": canhgac.get("origin"),
                "alert": {
                    "level": rule.level,
                    "status": "open",
                    "event_ids": [source_id],
                    "correlation": None,
                    "incident_id": None,
                    "acknowledged": None,
                    **(extra or {}),
                },
            },
        }
    )
    return Document("alerts", identifier, event_time(event), body)
