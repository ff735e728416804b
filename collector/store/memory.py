"""A store kept in this process: for unit tests and demos. Same promises as the Elasticsearch store
(checked by one contract suite), except nothing survives the process."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from collector.store.errors import AlreadyExists, VersionConflict
from collector.store.matching import alert_matches, field, incident_matches
from collector.store.naming import IndexNames, parse_time
from collector.store.records import AlertFilter, AuditFilter, IncidentFilter, Page, Versioned

_Doc = dict[str, Any]


class _Collection:
    """Documents of one kind by id, each with the sequence number of its last write."""

    def __init__(self) -> None:
        self.documents: dict[str, Versioned] = {}
        self._sequence = 0

    def write(self, doc_id: str, index: str, source: Mapping[str, Any]) -> Versioned:
        self._sequence += 1
        stored = Versioned(doc_id, index, self._sequence, 1, copy.deepcopy(dict(source)))
        self.documents[doc_id] = stored
        return _copy(stored)

    def create(self, doc_id: str, index: str, source: Mapping[str, Any]) -> Versioned:
        if doc_id in self.documents:
            raise AlreadyExists(f"{doc_id} already exists")
        return self.write(doc_id, index, source)

    def replace(self, current: Versioned, source: Mapping[str, Any]) -> Versioned:
        stored = self.documents.get(current.id)
        if stored is None or stored.seq_no != current.seq_no:
            raise VersionConflict(f"{current.id} changed since it was read")
        return self.write(current.id, stored.index, source)

    def get(self, doc_id: str) -> Versioned | None:
        stored = self.documents.get(doc_id)
        return _copy(stored) if stored else None

    def select(self, keep: Callable[[Mapping[str, Any]], bool]) -> list[Versioned]:
        return [_copy(item) for item in self.documents.values() if keep(item.source)]


def _copy(item: Versioned) -> Versioned:
    return Versioned(item.id, item.index, item.seq_no, item.primary_term, copy.deepcopy(dict(item.source)))


def _page(items: Iterable[Versioned], sort_path: str, newest_first: bool, limit: int, offset: int) -> Page:
    ordered = sorted(items, key=lambda item: parse_time(field(item.source, sort_path)), reverse=newest_first)
    return Page(total=len(ordered), items=ordered[offset : offset + limit])


class InMemoryStore:
    """:class:`collector.store.protocol.Store` in dictionaries. Not thread-safe; one event loop."""

    def __init__(self, names: IndexNames | None = None) -> None:
        self.names = names or IndexNames()
        self._alerts = _Collection()
        self._incidents = _Collection()
        self._audit = _Collection()
        self._agents = _Collection()
        self._tokens = _Collection()

    async def setup(self) -> None:
        return None

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None

    # alerts
    async def create_alert(self, alert: Mapping[str, Any]) -> Versioned:
        index = self.names.alerts_index(parse_time(alert["@timestamp"]))
        return self._alerts.create(str(field(alert, "event.id")), index, alert)

    async def get_alert(self, alert_id: str, hint: datetime | None = None) -> Versioned | None:
        return self._alerts.get(alert_id)

    async def replace_alert(self, current: Versioned, alert: Mapping[str, Any]) -> Versioned:
        return self._alerts.replace(current, alert)

    async def search_alerts(self, where: AlertFilter, limit: int, offset: int = 0) -> Page:
        found = self._alerts.select(lambda doc: alert_matches(doc, where))
        return _page(found, "@timestamp", True, limit, offset)

    # incidents
    async def create_incident(self, incident: Mapping[str, Any]) -> Versioned:
        return self._incidents.create(str(incident["id"]), self.names.incidents, incident)

    async def get_incident(self, incident_id: str) -> Versioned | None:
        return self._incidents.get(incident_id)

    async def replace_incident(self, current: Versioned, incident: Mapping[str, Any]) -> Versioned:
        return self._incidents.replace(current, incident)

    async def search_incidents(self, where: IncidentFilter, limit: int, offset: int = 0) -> Page:
        found = self._incidents.select(lambda doc: incident_matches(doc, where))
        return _page(found, "created", True, limit, offset)

    # audit
    async def append_audit(self, entry: Mapping[str, Any]) -> None:
        index = self.names.audit_index(parse_time(entry["@timestamp"]))
        self._audit.create(str(field(entry, "event.id")), index, entry)

    async def search_audit(self, where: AuditFilter, limit: int) -> list[Mapping[str, Any]]:
        wanted = {
            "canhgac.audit.object_id": where.object_id,
            "user.name": where.actor,
            "event.action": where.action,
        }

        def keep(doc: Mapping[str, Any]) -> bool:
            return all(value is None or field(doc, path) == value for path, value in wanted.items())

        page = _page(self._audit.select(keep), "@timestamp", False, limit, 0)
        return [item.source for item in page.items]

    # agents
    async def get_agent(self, agent_id: str) -> Versioned | None:
        return self._agents.get(agent_id)

    async def put_agent(self, current: Versioned | None, agent: Mapping[str, Any]) -> Versioned:
        agent_id = str(field(agent, "agent.id"))
        if current is None:
            return self._agents.create(agent_id, self.names.agents, agent)
        return self._agents.replace(current, agent)

    async def list_agents(self, agencies: frozenset[str] | None, limit: int) -> list[Versioned]:
        found = self._agents.select(lambda doc: agencies is None or field(doc, "organization.id") in agencies)
        return sorted(found, key=lambda item: item.id)[:limit]

    # tokens
    async def create_token(self, token: Mapping[str, Any]) -> Versioned:
        return self._tokens.create(str(token["id"]), self.names.tokens, token)

    async def get_token(self, token_id: str) -> Versioned | None:
        return self._tokens.get(token_id)

    async def replace_token(self, current: Versioned, token: Mapping[str, Any]) -> Versioned:
        return self._tokens.replace(current, token)

    async def list_tokens(self, limit: int) -> list[Versioned]:
        return sorted(self._tokens.select(lambda _doc: True), key=lambda item: item.id)[:limit]
