"""Helpers for the store contract and API integration tests (no tests here): a unique index prefix per
test, the real alert template from the sink, alert documents shaped like the sink's, and cleanup."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import AsyncElasticsearch

from collector.incidents.alert_document import alert_document
from collector.sinks.elasticsearch import index_templates
from collector.store.elastic import ElasticStore, Refresh
from collector.store.naming import IndexNames
from tests.support.es import EsAccess

T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
_serial = itertools.count()


def unique_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}-"


def make_alert(
    agency: str = "agency-a",
    *,
    minute: int = 5,
    level: str = "high",
    host: str = "host-1",
    rule: str = "rule-ssh",
    security_level: int = 3,
) -> dict[str, Any]:
    return alert_document(
        alert_id=f"alert-{agency}-{next(_serial)}-{uuid.uuid4().hex[:6]}",
        timestamp=T0 + timedelta(minutes=minute),
        created=T0 + timedelta(minutes=minute, seconds=1),
        rule={"id": rule, "name": "SSH brute force", "description": "many failed logins"},
        level=level,
        summary=f"failures on {host}",
        host={"id": f"{agency}-{host}", "name": f"{host}.{agency}"},
        organization={"id": agency, "name": agency.upper()},
        system={"name": "mail", "security_level": security_level},
        category=("authentication",),
        event_type=("start",),
    )


@asynccontextmanager
async def elastic_store(es: EsAccess, refresh: Refresh = "wait_for") -> AsyncIterator[ElasticStore]:
    """A set-up store under a fresh prefix, with the alert sink's template; every index and template of
    the prefix is deleted afterwards."""
    prefix = unique_prefix()
    client = es.client()
    store = await prepare_prefix(client, prefix, refresh)
    try:
        yield store
    finally:
        await drop_prefix(client, prefix)
        await client.close()


async def prepare_prefix(
    client: AsyncElasticsearch, prefix: str, refresh: Refresh = "wait_for"
) -> ElasticStore:
    """The sink's templates and this store's, installed under ``prefix``."""
    for name, body in index_templates(prefix).items():
        await client.indices.put_index_template(name=name, **body)
    store = ElasticStore(client, IndexNames(prefix), refresh=refresh)
    await store.setup()
    return store


async def index_alerts(store: ElasticStore, *alerts: dict[str, Any]) -> None:
    """Index alerts the way the sink does (``op_type=create``, monthly index by ``@timestamp``)."""
    for alert in alerts:
        await store.create_alert(alert)


async def drop_prefix(client: AsyncElasticsearch, prefix: str) -> None:
    """Delete every index and template of ``prefix`` (by name: wildcard deletes may be disabled)."""
    indices = await client.indices.get(index=f"{prefix}*", allow_no_indices=True, expand_wildcards="all")
    for name in indices.body:
        await client.indices.delete(index=name, ignore_unavailable=True)
    templates = await client.indices.get_index_template(name=f"{prefix}*")
    for template in templates.body.get("index_templates", []):
        await client.indices.delete_index_template(name=template["name"])


ROLES: dict[str, tuple[str, str | None]] = {
    "viewer": ("viewer", None),
    "viewer_a": ("viewer", "agency-a"),
    "responder_a": ("responder", "agency-a"),
    "responder_b": ("responder", "agency-b"),
    "analyst": ("analyst", None),
    "admin": ("admin", None),
}


async def issue_tokens(store: ElasticStore, *, revoked: bool = True) -> dict[str, str]:
    """A token per role in :data:`ROLES`, plus ``revoked`` (a revoked analyst token)."""
    from collector.api.roles import Role
    from collector.api.tokens import issue, revoke
    from collector.incidents.actor import Actor

    setup = Actor("test-setup", "admin", None)
    secrets = {}
    for who, (role, agency) in ROLES.items():
        issued = await issue(store, role=Role(role), agency=agency, name=who, by=setup, now=datetime.now(UTC))
        secrets[who] = issued.secret
    if revoked:
        issued = await issue(
            store, role=Role.ANALYST, agency=None, name="revoked", by=setup, now=datetime.now(UTC)
        )
        await revoke(store, str(issued.record["id"]), by=setup, now=datetime.now(UTC))
        secrets["revoked"] = issued.secret
    return secrets


async def refresh(store: ElasticStore) -> None:
    """Make every write of this test's prefix searchable now."""
    await store._es.indices.refresh(index=f"{store.names.prefix}*")


def heartbeat(
    agent_id: str, when: datetime, *, interval_s: float = 30.0, agency: str = "agency-a"
) -> dict[str, Any]:
    """A heartbeat event as the agent sends it (a plain dict, as the pipeline hands it over)."""
    return {
        "@timestamp": when.isoformat(),
        "event": {
            "id": str(uuid.uuid4()),
            "kind": "state",
            "category": ["host"],
            "type": ["info"],
            "dataset": "canhgac.heartbeat",
            "sequence": next(_serial),
        },
        "host": {"id": f"host-{agent_id}", "name": f"{agent_id}.example"},
        "agent": {"id": agent_id, "version": "0.1.0"},
        "organization": {"id": agency, "name": agency.upper()},
        "canhgac": {
            "system": {"name": "mail", "security_level": 4},
            "health": {
                "interval_s": interval_s,
                "sensors": {"process": {"status": "ok"}},
                "spool": {"depth": 3},
            },
        },
    }
