"""Filters as Elasticsearch query DSL. Mirrors :mod:`collector.store.matching`: the contract suite runs the
same searches over both stores."""

from __future__ import annotations

from typing import Any

from collector.store.records import AlertFilter, AuditFilter, IncidentFilter

_Clause = dict[str, Any]

MATCH_NOTHING: _Clause = {"bool": {"must_not": {"match_all": {}}}}


def _term(path: str, value: str | None) -> list[_Clause]:
    return [] if value is None else [{"term": {path: value}}]


def _scope(agencies: frozenset[str] | None, agency: str | None) -> list[_Clause]:
    clauses: list[_Clause] = []
    if agencies is not None:
        clauses.append({"terms": {"organization.id": sorted(agencies)}})
    return clauses + _term("organization.id", agency)


def _range(path: str, since: Any, until: Any) -> list[_Clause]:
    bounds = {}
    if since is not None:
        bounds["gte"] = since.isoformat()
    if until is not None:
        bounds["lt"] = until.isoformat()
    return [{"range": {path: bounds}}] if bounds else []


def _text(fields: list[str], text: str | None) -> list[_Clause]:
    if text is None:
        return []
    # simple_query_string never fails on user syntax; words are ANDed like the in-memory store.
    return [{"simple_query_string": {"query": text, "fields": fields, "default_operator": "and"}}]


def _bool(filters: list[_Clause], must: list[_Clause]) -> _Clause:
    if not filters and not must:
        return {"match_all": {}}
    return {"bool": {"filter": filters, "must": must}}


def alert_query(where: AlertFilter) -> _Clause:
    if (where.agencies is not None and not where.agencies) or (where.ids is not None and not where.ids):
        return MATCH_NOTHING
    filters = _scope(where.agencies, where.agency)
    filters += _term("host.id", where.host) + _term("rule.id", where.rule)
    filters += _term("canhgac.alert.status", where.status)
    filters += _term("canhgac.alert.incident_id", where.incident_id)
    if where.ids is not None:
        filters.append({"ids": {"values": sorted(where.ids)}})
    if where.min_severity is not None:
        filters.append({"range": {"event.severity": {"gte": where.min_severity}}})
    filters += _range("@timestamp", where.since, where.until)
    return _bool(filters, _text(["message", "rule.name.text"], where.text))


def incident_query(where: IncidentFilter) -> _Clause:
    if where.agencies is not None and not where.agencies:
        return MATCH_NOTHING
    filters = _scope(where.agencies, where.agency)
    filters += _term("host.id", where.host) + _term("rule.id", where.rule)
    filters += _term("priority", where.priority) + _term("assignee", where.assignee)
    if where.statuses:
        filters.append({"terms": {"status": sorted(where.statuses)}})
    filters += _range("created", where.since, where.until)
    return _bool(filters, _text(["title"], where.text))


def audit_query(where: AuditFilter) -> _Clause:
    filters = _term("canhgac.audit.object_id", where.object_id)
    filters += _term("user.name", where.actor) + _term("event.action", where.action)
    return _bool(filters, [])
