"""Values passed to and returned by stores: versioned documents, filters and pages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Versioned:
    """A document as read, with what a conditional write needs to detect a concurrent change.

    ``index`` is the concrete index holding it (alerts live in monthly indices); ``seq_no`` and
    ``primary_term`` are Elasticsearch's optimistic-concurrency pair (the in-memory store counts)."""

    id: str
    index: str
    seq_no: int
    primary_term: int
    source: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Page:
    total: int
    items: list[Versioned]


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Every field narrows the result; ``agencies`` is the caller's scope (``None``: every agency)."""

    agencies: frozenset[str] | None = None
    agency: str | None = None
    host: str | None = None
    rule: str | None = None
    status: str | None = None
    min_severity: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    ids: frozenset[str] | None = None
    incident_id: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    agencies: frozenset[str] | None = None
    agency: str | None = None
    host: str | None = None
    rule: str | None = None
    statuses: frozenset[str] = field(default_factory=frozenset)
    priority: str | None = None
    assignee: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    object_id: str | None = None
    actor: str | None = None
    action: str | None = None
