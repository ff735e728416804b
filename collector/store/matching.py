"""Filters evaluated in Python, for the in-memory store. Mirrors :mod:`collector.store.elastic_queries`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from collector.store.naming import parse_time
from collector.store.records import AlertFilter, IncidentFilter


def field(document: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ECS path, or ``None``."""
    value: Any = document
    for step in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def _contains_text(document: Mapping[str, Any], paths: tuple[str, ...], text: str) -> bool:
    words = text.casefold().split()
    haystack = " ".join(str(field(document, path) or "") for path in paths).casefold()
    return all(word in haystack for word in words)


def _in_scope(agency: Any, agencies: frozenset[str] | None, wanted: str | None) -> bool:
    if agencies is not None and agency not in agencies:
        return False
    return wanted is None or agency == wanted


def alert_matches(alert: Mapping[str, Any], where: AlertFilter) -> bool:
    if not _in_scope(field(alert, "organization.id"), where.agencies, where.agency):
        return False
    exact = {
        "host.id": where.host,
        "rule.id": where.rule,
        "canhgac.alert.status": where.status,
        "canhgac.alert.incident_id": where.incident_id,
    }
    if any(wanted is not None and field(alert, path) != wanted for path, wanted in exact.items()):
        return False
    if where.ids is not None and field(alert, "event.id") not in where.ids:
        return False
    if where.min_severity is not None and int(field(alert, "event.severity") or 0) < where.min_severity:
        return False
    when = parse_time(field(alert, "@timestamp"))
    if where.since is not None and when < where.since:
        return False
    if where.until is not None and when >= where.until:
        return False
    return where.text is None or _contains_text(alert, ("message", "rule.name"), where.text)


def incident_matches(incident: Mapping[str, Any], where: IncidentFilter) -> bool:
    if not _in_scope(field(incident, "organization.id"), where.agencies, where.agency):
        return False
    exact = {
        "host.id": where.host,
        "rule.id": where.rule,
        "priority": where.priority,
        "assignee": where.assignee,
    }
    if any(wanted is not None and field(incident, path) != wanted for path, wanted in exact.items()):
        return False
    if where.statuses and incident.get("status") not in where.statuses:
        return False
    created = parse_time(incident.get("created"))
    if where.since is not None and created < where.since:
        return False
    if where.until is not None and created >= where.until:
        return False
    return where.text is None or _contains_text(incident, ("title",), where.text)
