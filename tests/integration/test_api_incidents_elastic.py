"""The incidents service, the agent inventory and the token CLI on the real Elasticsearch store."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collector.incidents.agents import SILENT_RULE_ID, AgentInventory
from collector.incidents.service import IncidentService
from collector.store import AlertFilter, AuditFilter, IncidentFilter
from tests.integration.test_api_support import drop_prefix, elastic_store, heartbeat, make_alert, refresh

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


async def test_a_replayed_batch_changes_no_incident_and_no_audit_entry(stack: Any) -> None:
    async with elastic_store(stack.es, refresh="false") as store:
        batch = [make_alert("agency-a", minute=m) for m in (1, 2, 3)] + [make_alert("agency-b", minute=4)]
        for alert in batch:
            await store.create_alert(alert)  # as the sink does, unrefreshed: found through the hint
        service = IncidentService(store)
        await service.on_alerts(batch)
        await refresh(store)
        before = (await store.search_incidents(IncidentFilter(), 10)).items
        audit_before = await store.search_audit(AuditFilter(), 100)
        await service.on_alerts(batch)
        await IncidentService(store).on_alerts(list(reversed(batch)))  # another collector instance
        await refresh(store)
        after = (await store.search_incidents(IncidentFilter(), 10)).items
        assert len(after) == 2
        assert [(i.id, i.seq_no, i.source) for i in after] == [(i.id, i.seq_no, i.source) for i in before]
        assert await store.search_audit(AuditFilter(), 100) == audit_before
        linked = await store.search_alerts(AlertFilter(incident_id=after[0].id), 10)
        assert linked.total == after[0].source["alert_count"]


async def test_heartbeats_and_silent_agents(stack: Any) -> None:
    async with elastic_store(stack.es, refresh="wait_for") as store:
        inventory = AgentInventory(store, IncidentService(store), silence_multiple=3.0)
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
        await inventory.on_heartbeats([heartbeat("web01", start), heartbeat("web02", start)])
        await inventory.on_heartbeats([heartbeat("web02", start + timedelta(seconds=60))])
        await inventory.on_heartbeats([heartbeat("web02", start + timedelta(seconds=1))])  # late, older
        agents = {agent.id: agent.source for agent in await store.list_agents(None, 10)}
        assert set(agents) == {"web01", "web02"}
        assert agents["web02"]["last_seen"] == (start + timedelta(seconds=60)).isoformat()
        assert agents["web02"]["spool"]["depth"] == 3
        now = start + timedelta(seconds=91)  # web01 silent 91 s > 3 x 30 s; web02 31 s
        raised = await inventory.check_silent_agents(now)
        assert {alert["agent"]["id"] for alert in raised} == {"web01"}
        assert await inventory.check_silent_agents(now) == []
        await refresh(store)
        incidents = await store.search_incidents(IncidentFilter(rule=SILENT_RULE_ID), 10)
        assert incidents.total == 1
        assert incidents.items[0].source["host"]["name"] == "web01.example"
        assert incidents.items[0].source["priority"] == "P1"  # high on a security-level-4 system


def test_token_cli_creates_lists_and_revokes(stack: Any) -> None:
    prefix = f"tcli{datetime.now(UTC):%H%M%S%f}-"
    base = [
        sys.executable,
        "-m",
        "collector.cli",
        "token",
        "--index-prefix",
        prefix,
    ]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        # As the least-privilege ``canhgac-api`` user, which the token command runs as in a deployment.
        env = {**os.environ, **stack.es_as("api").environment()}
        return subprocess.run([*base, *args], cwd=REPO, capture_output=True, text=True, timeout=120, env=env)

    try:
        created = cli("create", "--role", "responder", "--agency", "agency-a", "--name", "alice")
        assert created.returncode == 0, created.stderr
        token_id = created.stdout.split("token id: ")[1].split()[0]
        secret = created.stdout.split("store it now): ")[1].strip()
        assert secret.startswith(f"cg_{token_id}_")
        listed = cli("list")
        assert token_id in listed.stdout
        assert secret not in listed.stdout
        assert secret.split("_")[-1] not in listed.stdout
        refused = cli("create", "--role", "responder", "--name", "nobody")
        assert refused.returncode == 2
        assert "must name its agency" in refused.stderr
        revoked = cli("revoke", token_id)
        assert revoked.returncode == 0, revoked.stderr
        assert '"revoked_at": null' not in cli("list").stdout
        assert cli("revoke", "0000000000000000").returncode == 2
    finally:

        async def cleanup() -> None:
            client = stack.es.client()
            try:
                await drop_prefix(client, prefix)
            finally:
                await client.close()

        asyncio.run(cleanup())
