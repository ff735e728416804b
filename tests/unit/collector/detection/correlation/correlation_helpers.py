"""Shared builders for the correlation tests: inline Sigma YAML and small ECS authentication events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule

from collector.detection.correlation import (
    CorrelationMatch,
    CorrelationSet,
    CorrelationTracker,
    FieldResolver,
    compile_correlations,
)

T0 = datetime(2026, 11, 22, 8, 0, 0, tzinfo=UTC)

FAILED_ID = "5d7f6d0e-1111-4c5e-9a0b-000000000001"
SUCCESS_ID = "5d7f6d0e-1111-4c5e-9a0b-000000000002"

BASE_RULES = f"""
title: SSH failed password
id: {FAILED_ID}
name: ssh_failed_login
logsource: {{product: linux, service: sshd}}
detection:
  keywords: ['Failed password']
  condition: keywords
level: low
---
title: SSH accepted password
id: {SUCCESS_ID}
name: ssh_successful_login
logsource: {{product: linux, service: sshd}}
detection:
  keywords: ['Accepted password']
  condition: keywords
level: informational
"""


def load(correlation_yaml: str, resolver: FieldResolver | None = None) -> CorrelationSet:
    """Base rules plus ``correlation_yaml`` as one multi-document YAML; fails on any compile error."""
    collection = SigmaCollection.from_yaml(BASE_RULES + "---\n" + correlation_yaml)
    rules = [rule for rule in collection.rules if isinstance(rule, SigmaCorrelationRule)]
    compiled, errors = compile_correlations(rules, resolver)
    assert not errors, errors
    return compiled


def auth_event(
    seconds: float, source_ip: str = "203.0.113.7", user: str = "root", *, event_id: str | None = None
) -> dict[str, Any]:
    moment = at(seconds)
    return {
        "@timestamp": moment.isoformat(),
        "event": {
            "id": event_id or f"evt-{source_ip}-{user}-{seconds}",
            "dataset": "canhgac.authentication",
            "outcome": "failure",
        },
        "source": {"ip": source_ip, "port": 52100},
        "user": {"name": user},
        "process": {"name": "sshd", "pid": 811},
        "message": f"Failed password for {user} from {source_ip} port 52100 ssh2",
    }


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def feed(tracker: CorrelationTracker, rule_id: str, events: list[dict[str, Any]]) -> list[CorrelationMatch]:
    matches: list[CorrelationMatch] = []
    for event in events:
        moment = datetime.fromisoformat(event["@timestamp"])
        matches.extend(tracker.observe(rule_id, event, moment))
    return matches


# A correlation of a correlation: many failed logins from one source, then a login that works.
MANY_FAILURES_THEN_SUCCESS = """
title: Many failed logins from one source
id: 9a1c0000-0000-4000-8000-0000000000a1
name: many_failed_logins
correlation:
  type: event_count
  rules: ssh_failed_login
  group-by: [source.ip]
  timespan: 1m
  condition: {gte: 5}
---
title: Successful login after a brute force
id: 9a1c0000-0000-4000-8000-0000000000a2
correlation:
  type: temporal_ordered
  rules: [many_failed_logins, ssh_successful_login]
  group-by: [source.ip]
  timespan: 5m
"""
