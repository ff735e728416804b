"""What a store promises, independent of where it keeps documents.

Lifecycle: construct, ``await setup()`` once (creates index templates and indices; safe to repeat), use
from one event loop, ``await close()``. Documents are plain JSON-able mappings; the fields a store filters
and sorts on are listed per protocol.

Every conditional write takes the :class:`Versioned` it was computed from and raises
:class:`~collector.store.errors.VersionConflict` if the document changed since: stores never merge or
retry, callers re-read and decide. Create-only writes raise :class:`~collector.store.errors.AlreadyExists`.
Reads by id are real-time; searches may lag writes by the store's refresh interval. Any failure of the
backing service is raised as :class:`~collector.store.errors.StoreUnavailable`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from collector.store.records import AlertFilter, AuditFilter, IncidentFilter, Page, Versioned


class AlertStore(Protocol):
    """Alerts in monthly indices chosen by ``@timestamp``; ``_id`` is ``event.id``. Filtered fields:
    ``@timestamp``, ``event.severity``, ``organization.id``, ``host.id``, ``rule.id``,
    ``canhgac.alert.status``, ``canhgac.alert.incident_id``; free text over ``message`` and ``rule.name``.
    Searches sort newest first."""

    async def create_alert(self, alert: Mapping[str, Any]) -> Versioned: ...

    async def get_alert(self, alert_id: str, hint: datetime | None = None) -> Versioned | None:
        """``hint`` is the alert's ``@timestamp`` when known: it names the index to read in real time, so
        an alert indexed a moment ago is found before the next refresh."""
        ...

    async def replace_alert(self, current: Versioned, alert: Mapping[str, Any]) -> Versioned: ...

    async def search_alerts(self, where: AlertFilter, limit: int, offset: int = 0) -> Page: ...


class IncidentStore(Protocol):
    """Incidents by ``id``. Filtered fields: ``status``, ``priority``, ``organization.id``, ``host.id``,
    ``rule.id``, ``assignee``, ``created``; free text over ``title``. Searches sort newest ``created``
    first."""

    async def create_incident(self, incident: Mapping[str, Any]) -> Versioned: ...

    async def get_incident(self, incident_id: str) -> Versioned | None: ...

    async def replace_incident(self, current: Versioned, incident: Mapping[str, Any]) -> Versioned: ...

    async def search_incidents(self, where: IncidentFilter, limit: int, offset: int = 0) -> Page: ...


class AuditLog(Protocol):
    """Append-only: there is no method to change or delete an entry. An entry's ``event.id`` is its id, so
    a replayed append raises :class:`AlreadyExists` instead of duplicating. Monthly indices by
    ``@timestamp``; searches sort oldest first."""

    async def append_audit(self, entry: Mapping[str, Any]) -> None: ...

    async def search_audit(self, where: AuditFilter, limit: int) -> list[Mapping[str, Any]]: ...


class AgentStore(Protocol):
    """One document per agent, by ``agent.id``; listed by ``organization.id``."""

    async def get_agent(self, agent_id: str) -> Versioned | None: ...

    async def put_agent(self, current: Versioned | None, agent: Mapping[str, Any]) -> Versioned:
        """Create (``current`` is ``None``; raises :class:`AlreadyExists` if one appeared) or replace."""
        ...

    async def list_agents(self, agencies: frozenset[str] | None, limit: int) -> list[Versioned]: ...


class TokenStore(Protocol):
    """API tokens by ``id``; documents hold only a SHA-256 hash of the secret."""

    async def create_token(self, token: Mapping[str, Any]) -> Versioned: ...

    async def get_token(self, token_id: str) -> Versioned | None: ...

    async def replace_token(self, current: Versioned, token: Mapping[str, Any]) -> Versioned: ...

    async def list_tokens(self, limit: int) -> list[Versioned]: ...


class Store(AlertStore, IncidentStore, AuditLog, AgentStore, TokenStore, Protocol):
    """Everything the incidents service and the API keep."""

    async def setup(self) -> None: ...

    async def ping(self) -> bool:
        """Whether the backing service answers now; never raises."""
        ...

    async def close(self) -> None: ...
