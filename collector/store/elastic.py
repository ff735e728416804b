"""The store in Elasticsearch 8.19 through ``AsyncElasticsearch``.

Conditional writes use ``if_seq_no``/``if_primary_term`` (a concurrent change answers 409, raised as
:class:`VersionConflict`); create-only writes use ``op_type=create`` (409 raised as :class:`AlreadyExists`).
Alerts are found by id across ``<prefix>alerts-*`` once, then read and written in their concrete monthly
index, whose name is remembered: an alert never moves.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Literal

from elasticsearch import (
    ApiError,
    AsyncElasticsearch,
    BadRequestError,
    ConflictError,
    NotFoundError,
    TransportError,
)

from collector.store.elastic_mappings import templates
from collector.store.elastic_queries import alert_query, audit_query, incident_query
from collector.store.errors import AlreadyExists, QueryRejected, StoreUnavailable, VersionConflict
from collector.store.matching import field
from collector.store.naming import IndexNames, parse_time
from collector.store.records import AlertFilter, AuditFilter, IncidentFilter, Page, Versioned

Refresh = Literal["false", "wait_for", "true"]
_SEARCH_OPTIONS: dict[str, Any] = {"ignore_unavailable": True, "allow_no_indices": True}
_KNOWN_INDEX_CACHE = 10_000


@asynccontextmanager
async def _translated(what: str) -> AsyncIterator[None]:
    """Elasticsearch failures as store errors; 409 is left to the caller, who knows what it means."""
    try:
        yield
    except ConflictError:
        raise
    except NotFoundError:
        raise
    except BadRequestError as error:
        raise QueryRejected(f"{what}: {error.message}") from error
    except (ApiError, TransportError) as error:
        raise StoreUnavailable(f"{what}: {error}") from error


def _versioned(hit: Mapping[str, Any]) -> Versioned:
    return Versioned(
        id=hit["_id"],
        index=hit["_index"],
        seq_no=int(hit["_seq_no"]),
        primary_term=int(hit["_primary_term"]),
        source=hit["_source"],
    )


class ElasticStore:
    """:class:`collector.store.protocol.Store` over one cluster. ``refresh`` applies to every write:
    ``"wait_for"`` for the API (a responder sees their change in the next list), ``"false"`` for the
    pipeline, where latency matters more."""

    def __init__(self, client: AsyncElasticsearch, names: IndexNames, refresh: Refresh = "false") -> None:
        self._es = client
        self.names = names
        self._refresh = refresh
        self._alert_index: OrderedDict[str, str] = OrderedDict()

    async def setup(self) -> None:
        async with _translated("installing index templates"):
            for name, body in templates(self.names).items():
                await self._es.indices.put_index_template(name=name, **body)
            for index in (self.names.incidents, self.names.agents, self.names.tokens):
                if not await self._es.indices.exists(index=index):
                    try:
                        await self._es.indices.create(index=index)
                    except ApiError as error:
                        if error.status_code != 400 or "already_exists" not in str(error):
                            raise

    async def ping(self) -> bool:
        # Not ``client.ping()``: the minimal distribution has no handler for ``HEAD /``.
        try:
            health = await self._es.cluster.health(timeout="2s")
        except Exception:
            return False
        return health.get("status") in {"green", "yellow"}

    async def close(self) -> None:
        await self._es.close()

    # generic document operations ---------------------------------------------------------------------

    async def _get(self, index: str, doc_id: str) -> Versioned | None:
        try:
            async with _translated(f"reading {index}/{doc_id}"):
                response = await self._es.get(index=index, id=doc_id)
        except NotFoundError:
            return None
        return _versioned(response.body)

    async def _create(self, index: str, doc_id: str, source: Mapping[str, Any]) -> Versioned:
        try:
            async with _translated(f"creating {index}/{doc_id}"):
                response = await self._es.index(
                    index=index, id=doc_id, document=dict(source), op_type="create", refresh=self._refresh
                )
        except ConflictError as error:
            raise AlreadyExists(f"{doc_id} already exists in {index}") from error
        return Versioned(doc_id, response["_index"], response["_seq_no"], response["_primary_term"], source)

    async def _replace(self, current: Versioned, source: Mapping[str, Any]) -> Versioned:
        try:
            async with _translated(f"updating {current.index}/{current.id}"):
                response = await self._es.index(
                    index=current.index,
                    id=current.id,
                    document=dict(source),
                    if_seq_no=current.seq_no,
                    if_primary_term=current.primary_term,
                    refresh=self._refresh,
                )
        except (ConflictError, NotFoundError) as error:
            raise VersionConflict(f"{current.id} changed since it was read") from error
        return Versioned(current.id, current.index, response["_seq_no"], response["_primary_term"], source)

    async def _search(
        self, index: str, query: dict[str, Any], sort: list[Any], limit: int, offset: int = 0
    ) -> Page:
        async with _translated(f"searching {index}"):
            response = await self._es.search(
                index=index,
                query=query,
                sort=sort,
                size=limit,
                from_=offset,
                seq_no_primary_term=True,
                track_total_hits=True,
                **_SEARCH_OPTIONS,
            )
        hits = response["hits"]
        return Page(total=int(hits["total"]["value"]), items=[_versioned(hit) for hit in hits["hits"]])

    # alerts ------------------------------------------------------------------------------------------

    def _remember(self, alert_id: str, index: str) -> None:
        self._alert_index[alert_id] = index
        self._alert_index.move_to_end(alert_id)
        while len(self._alert_index) > _KNOWN_INDEX_CACHE:
            self._alert_index.popitem(last=False)

    async def create_alert(self, alert: Mapping[str, Any]) -> Versioned:
        alert_id = str(field(alert, "event.id"))
        index = self.names.alerts_index(parse_time(alert["@timestamp"]))
        created = await self._create(index, alert_id, alert)
        self._remember(alert_id, created.index)
        return created

    async def get_alert(self, alert_id: str, hint: datetime | None = None) -> Versioned | None:
        index = self._alert_index.get(alert_id)
        if index is None and hint is not None:
            found = await self._get(self.names.alerts_index(hint), alert_id)
            if found is not None:
                self._remember(alert_id, found.index)
                return found
        if index is None:
            located = await self._search(
                self.names.alerts_pattern, {"ids": {"values": [alert_id]}}, [], limit=1
            )
            if not located.items:
                return None
            index = located.items[0].index
            self._remember(alert_id, index)
        # The search only says where; the real-time GET gives the current version.
        return await self._get(index, alert_id)

    async def replace_alert(self, current: Versioned, alert: Mapping[str, Any]) -> Versioned:
        return await self._replace(current, alert)

    async def search_alerts(self, where: AlertFilter, limit: int, offset: int = 0) -> Page:
        sort = [{"@timestamp": {"order": "desc", "unmapped_type": "date"}}]
        return await self._search(self.names.alerts_pattern, alert_query(where), sort, limit, offset)

    # incidents ---------------------------------------------------------------------------------------

    async def create_incident(self, incident: Mapping[str, Any]) -> Versioned:
        return await self._create(self.names.incidents, str(incident["id"]), incident)

    async def get_incident(self, incident_id: str) -> Versioned | None:
        return await self._get(self.names.incidents, incident_id)

    async def replace_incident(self, current: Versioned, incident: Mapping[str, Any]) -> Versioned:
        return await self._replace(current, incident)

    async def search_incidents(self, where: IncidentFilter, limit: int, offset: int = 0) -> Page:
        sort = [{"created": {"order": "desc"}}, {"id": {"order": "asc"}}]
        return await self._search(self.names.incidents, incident_query(where), sort, limit, offset)

    # audit -------------------------------------------------------------------------------------------

    async def append_audit(self, entry: Mapping[str, Any]) -> None:
        index = self.names.audit_index(parse_time(entry["@timestamp"]))
        await self._create(index, str(field(entry, "event.id")), entry)

    async def search_audit(self, where: AuditFilter, limit: int) -> list[Mapping[str, Any]]:
        sort = [{"@timestamp": {"order": "asc", "unmapped_type": "date"}}]
        page = await self._search(self.names.audit_pattern, audit_query(where), sort, limit)
        return [item.source for item in page.items]

    # agents ------------------------------------------------------------------------------------------

    async def get_agent(self, agent_id: str) -> Versioned | None:
        return await self._get(self.names.agents, agent_id)

    async def put_agent(self, current: Versioned | None, agent: Mapping[str, Any]) -> Versioned:
        if current is None:
            return await self._create(self.names.agents, str(field(agent, "agent.id")), agent)
        return await self._replace(current, agent)

    async def list_agents(self, agencies: frozenset[str] | None, limit: int) -> list[Versioned]:
        if agencies is not None and not agencies:
            return []
        query = {"match_all": {}} if agencies is None else {"terms": {"organization.id": sorted(agencies)}}
        page = await self._search(self.names.agents, query, [{"agent.id": "asc"}], limit)
        return page.items

    # tokens ------------------------------------------------------------------------------------------

    async def create_token(self, token: Mapping[str, Any]) -> Versioned:
        return await self._create(self.names.tokens, str(token["id"]), token)

    async def get_token(self, token_id: str) -> Versioned | None:
        return await self._get(self.names.tokens, token_id)

    async def replace_token(self, current: Versioned, token: Mapping[str, Any]) -> Versioned:
        return await self._replace(current, token)

    async def list_tokens(self, limit: int) -> list[Versioned]:
        page = await self._search(self.names.tokens, {"match_all": {}}, [{"id": "asc"}], limit)
        return page.items
