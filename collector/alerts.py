"""Alert documents: what a rule match becomes in Elasticsearch (ECS, ``event.kind: alert``).

Ids are deterministic (the rule and the event, or the correlation episode), so the sink's
``op_type=create`` turns every replay into a no-op and each detection is stored exactly once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from collector.detection import CompiledRule, RuleMatch
from collector.detection.correlation import CorrelationMatch
from collector.incidents.priority import SEVERITY_BY_LEVEL
from collector.sinks import Document

ALERT_ID_NAMESPACE = uuid.UUID("2b8f3c1e-6d0a-5f47-8e19-a4c7d2b05e63")
"""Fixed forever: changing it changes every alert id and defeats de-duplication."""

# The event groups an alert carries over from the event that triggered it.
CARRIED_GROUPS = (
    "host",
    "agent",
    "organization",
    "process",
    "file",
    "user",
    "group",
    "source",
    "destination",
)

TACTICS = {
    "reconnaissance": ("TA0043", "Reconnaissance"),
    "resource_development": ("TA0042", "Resource Development"),
    "initial_access": ("TA0001", "Initial Access"),
    "execution": ("TA0002", "Execution"),
    "persistence": ("TA0003", "Persistence"),
    "privilege_escalation": ("TA0004", "Privilege Escalation"),
    "defense_evasion": ("TA0005", "Defense Evasion"),
    "credential_access": ("TA0006", "Credential Access"),
    "discovery": ("TA0007", "Discovery"),
    "lateral_movement": ("TA0008", "Lateral Movement"),
    "collection": ("TA0009", "Collection"),
    "command_and_control": ("TA0011", "Command and Control"),
    "exfiltration": ("TA0010", "Exfiltration"),
    "impact": ("TA0040", "Impact"),
}
_TECHNIQUE = re.compile(r"^attack\.(t\d{4})(?:\.(\d{3}))?$")


def alert_id(rule_id: str, event_id: str) -> str:
    return str(uuid.uuid5(ALERT_ID_NAMESPACE, f"{rule_id}\x1f{event_id}"))


def threat_from_tags(tags: list[str]) -> dict[str, Any] | None:
    """ECS ``threat.*`` from Sigma's ``attack.*`` tags (tactics by name, techniques by id)."""
    tactic_ids, tactic_names, techniques, subtechniques = [], [], [], []
    for tag in (tag.lower() for tag in tags):
        if tag.startswith("attack.") and tag[7:].replace("-", "_") in TACTICS:
            tactic_id, name = TACTICS[tag[7:].replace("-", "_")]
            tactic_ids.append(tactic_id)
            tactic_names.append(name)
        elif match := _TECHNIQUE.match(tag):
            technique = match.group(1).upper()
            if technique not in techniques:
                techniques.append(technique)
            if match.group(2):
                subtechniques.append(f"{technique}.{match.group(2)}")
    if not (tactic_ids or techniques):
        return None
    threat: dict[str, Any] = {"framework": "MITRE ATT&CK"}
    if tactic_ids:
        threat["tactic"] = {"id": tactic_ids, "name": tactic_names}
    if techniques:
        threat["technique"] = {"id": techniques}
        if subtechniques:
            threat["technique"]["subtechnique"] = {"id": subtechniques}
    return threat


def _rule_fields(rule: CompiledRule) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": rule.id,
        "name": rule.title,
        "ruleset": "canhgac" if "/rules/sigma" in str(rule.source_path) else "custom",
    }
    if rule.description:
        fields["description"] = rule.description
    if rule.references:
        fields["reference"] = rule.references
    if rule.author:
        fields["author"] = rule.author
    return fields


def _severity(level: str | None) -> int:
    return SEVERITY_BY_LEVEL.get(level or "medium", SEVERITY_BY_LEVEL["medium"])


def event_time(event: Mapping[str, Any]) -> datetime:
    raw = event.get("@timestamp")
    if isinstance(raw, str):
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.now(UTC)


def alert_for_match(match: RuleMatch, now: datetime) -> Document:
    event, rule = match.event, match.rule
    source_meta = event.get("event") if isinstance(event.get("event"), Mapping) else {}
    assert isinstance(source_meta, Mapping)
    source_id = str(source_meta.get("id", ""))
    identifier = alert_id(rule.id, source_id)
    severity = _severity(rule.level)
    body: dict[str, Any] = {group: event[group] for group in CARRIED_GROUPS if group in event}
    body.update(
        {
            "@timestamp": event.get("@timestamp") or now.isoformat(),
            "message": f"{rule.title}: {_summary(event)}",
            "event": {
                "kind": "alert",
                "id": identifier,
                "category": source_meta.get("category", []),
                "type": source_meta.get("type", []),
                "action": source_meta.get("action"),
                "outcome": source_meta.get("outcome"),
                "dataset": "canhgac.alert",
                "module": "canhgac",
                "created": now.isoformat(),
                "severity": severity,
                "risk_score": float(severity),
                "reason": rule.description or rule.title,
            },
            "rule": _rule_fields(rule),
            "canhgac": {
                "system": (event.get("canhgac") or {}).get("system"),
                "origin": (event.get("canhgac") or {}).get("origin"),
                "alert": {
                    "level": rule.level or "medium",
                    "status": "open",
                    "event_ids": [source_id],
                    "correlation": None,
                    "incident_id": None,
                    "acknowledged": None,
                },
            },
        }
    )
    if threat := threat_from_tags(rule.tags):
        body["threat"] = threat
    return Document("alerts", identifier, event_time(event), body)


def alert_event(identifier: str, severity: int, reason: str, now: datetime) -> dict[str, Any]:
    """The ``event`` object of an alert that stands for no single source event (a correlation, an
    integrity finding): ECS's intrusion-detection category, the severity also as the risk score."""
    return {
        "kind": "alert",
        "id": identifier,
        "category": ["intrusion_detection"],
        "type": ["info"],
        "dataset": "canhgac.alert",
        "module": "canhgac",
        "created": now.isoformat(),
        "severity": severity,
        "risk_score": float(severity),
        "reason": reason,
    }


def alert_for_correlation(match: CorrelationMatch, context: Mapping[str, Any], now: datetime) -> Document:
    """A correlation alert; ``context`` is the host/agency part of the newest contributing event."""
    correlation = match.correlation
    severity = _severity(correlation.level)
    group_text = ", ".join(f"{field}={value}" for field, value in match.group.items())
    rule = correlation.rule
    body: dict[str, Any] = {group: context[group] for group in CARRIED_GROUPS if group in context}
    body.update(
        {
            "@timestamp": match.window_end.isoformat(),
            "message": f"{correlation.title}: {int(match.value)} ({correlation.kind}) for {group_text}",
            "event": alert_event(
                match.id, severity, getattr(rule, "description", None) or correlation.title, now
            ),
            "rule": {
                "id": correlation.id,
                "name": correlation.title,
                "ruleset": "canhgac",
                "category": "correlation",
            },
            "canhgac": {
                "system": (context.get("canhgac") or {}).get("system"),
                "alert": {
                    "level": correlation.level or "medium",
                    "status": "open",
                    "event_ids": list(match.event_ids),
                    "correlation": {
                        "type": str(correlation.kind),
                        "group": dict(match.group),
                        "group_text": group_text,
                        "window_start": match.window_start.isoformat(),
                        "window_end": match.window_end.isoformat(),
                        "value": match.value,
                    },
                    "incident_id": None,
                    "acknowledged": None,
                },
            },
        }
    )
    tags = [str(tag) for tag in (getattr(rule, "tags", None) or [])]
    if threat := threat_from_tags(tags):
        body["threat"] = threat
    return Document("alerts", match.id, match.window_end, body)


def _summary(event: Mapping[str, Any]) -> str:
    host = (event.get("host") or {}).get("name", "?")
    for group, field in (("process", "command_line"), ("file", "path"), ("message", None)):
        value = event.get(group)
        if field and isinstance(value, Mapping) and value.get(field):
            return f"{value[field]} on {host}"[:500]
        if field is None and isinstance(value, str):
            return f"{value} on {host}"[:500]
    return f"on {host}"
