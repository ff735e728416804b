"""The collector on the real stack: Kafka in, alerts and events out in Elasticsearch, nothing lost."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.collector_harness import CollectorRun, search, wait_for_documents
from tests.support.events import encoded, process_exec, ssh_failure

pytestmark = pytest.mark.integration

RULES = """
title: Interactive shell started by a web server user
id: 0f4bd3c5-7a6e-4c39-9a2f-1d3c5b7e9a01
status: test
level: high
tags: [attack.execution, attack.t1059.004]
logsource: {product: linux, category: process_creation}
detection:
  selection:
    User: www-data
    CommandLine|contains: ' -i'
  condition: selection
---
title: SSH failed password
id: 5c2e8a41-93b7-4d0e-8f16-2a7c9d3e4b52
name: ssh_failed_password
status: test
level: low
logsource: {product: linux, service: sshd}
detection:
  keywords: ['Failed password']
  condition: keywords
---
title: SSH brute force from one source
id: 8e1f6b27-4c3d-4a95-b0e8-7d2c1a9f3e64
status: test
level: high
tags: [attack.credential_access, attack.t1110.001]
correlation:
  type: event_count
  rules: [ssh_failed_password]
  group-by: [source.ip]
  timespan: 60s
  condition: {gte: 5}
"""


@pytest.fixture
def run(stack, tmp_path: Path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "test.yml").write_text(RULES)
    # The collectors run as the stack's least-privilege collector user, as in a deployment.
    collectors = CollectorRun(stack.kafka, stack.es, rules, tmp_path, collector_es=stack.es_as("collector"))
    asyncio.run(collectors.create_topics())
    # The collectors log in as the stack's collector principal: its ACLs must be enough for the pipeline.
    asyncio.run(collectors.grant_collector(stack.kafka_as("collector")))
    yield collectors
    collectors.stop_all()


async def test_events_become_alerts_and_bad_messages_dead_letters(run: CollectorRun) -> None:
    shell = process_exec("/bin/bash", "bash -i", host="portal01")
    benign = process_exec("/usr/bin/ls", "ls -la /var/www", host="portal01")
    failures = [ssh_failure("root", "203.0.113.7", host=f"mail0{i % 2}") for i in range(6)]
    messages = [(b"portal01", encoded(shell)), (b"portal01", encoded(benign))]
    messages += [(f"mail0{i % 2}".encode(), encoded(event)) for i, event in enumerate(failures)]
    messages += [(b"bad", b"{not json"), (b"bad", b'{"event": {"dataset": "canhgac.file"}}')]
    run.start_collector()
    run.start_collector()  # two processes share the partitions and the correlation
    await run.produce(messages)

    events = await wait_for_documents(run.es, f"{run.prefix}events-*", 8)
    assert len(events) == 8, run.logs()
    alerts = await wait_for_documents(run.es, f"{run.prefix}alerts-*", 2)
    await asyncio.sleep(2)  # a second brute-force alert, if the bug existed, would come now
    alerts = await search(run.es, f"{run.prefix}alerts-*")
    by_rule = Counter(alert["rule"]["name"] for alert in alerts)
    assert by_rule["Interactive shell started by a web server user"] == 1, run.logs()
    # Sigma: a base rule used by a correlation without `generate: true` raises no alert of its own.
    assert by_rule["SSH failed password"] == 0
    assert by_rule["SSH brute force from one source"] == 1, run.logs()
    assert len(alerts) == 2
    shell_alert = next(a for a in alerts if a["rule"]["id"] == "0f4bd3c5-7a6e-4c39-9a2f-1d3c5b7e9a01")
    assert shell_alert["event"]["kind"] == "alert"
    assert shell_alert["event"]["severity"] == 73
    assert shell_alert["canhgac"]["alert"]["event_ids"] == [shell["event"]["id"]]
    assert shell_alert["threat"]["technique"]["subtechnique"]["id"] == ["T1059.004"]
    brute = next(a for a in alerts if a["rule"]["name"] == "SSH brute force from one source")
    assert brute["canhgac"]["alert"]["correlation"]["group"] == {"source.ip": "203.0.113.7"}

    letters = await run.dead_letters(expected=2)
    # At least once: a batch replayed after a rebalance publishes its dead letters again, with the same
    # source (topic/partition/offset) header, by which a reader de-duplicates.
    by_source = {dict(letter.headers)["canhgac.source"]: letter for letter in letters}
    reasons = sorted(dict(letter.headers)["canhgac.reason"].decode() for letter in by_source.values())
    assert len(reasons) == 2
    assert reasons[1].startswith("not JSON")
    assert "event.id" in reasons[0]
    assert {letter.value for letter in letters} == {b"{not json", b'{"event": {"dataset": "canhgac.file"}}'}


async def test_kill_9_mid_stream_leaves_one_alert_per_detection(run: CollectorRun) -> None:
    shells = [process_exec("/bin/bash", f"bash -i #{n}", host=f"h{n % 5}") for n in range(300)]
    first = run.start_collector()
    await run.produce((f"h{n % 5}".encode(), encoded(event)) for n, event in enumerate(shells[:150]))
    await wait_for_documents(run.es, f"{run.prefix}alerts-*", 20)
    run.kill(first)  # kill -9 somewhere in the middle of the stream
    await run.produce((f"h{n % 5}".encode(), encoded(event)) for n, event in enumerate(shells[150:]))
    run.start_collector()
    alerts = await wait_for_documents(run.es, f"{run.prefix}alerts-*", 300)
    ids = Counter(alert["canhgac"]["alert"]["event_ids"][0] for alert in alerts)
    assert len(alerts) == 300, run.logs()
    assert set(ids) == {event["event"]["id"] for event in shells}
    assert max(ids.values()) == 1


async def test_elasticsearch_outage_loses_nothing(run: CollectorRun, stack) -> None:
    run.start_collector()
    before = [process_exec("/bin/bash", f"bash -i before {n}") for n in range(20)]
    await run.produce((b"web01", encoded(event)) for event in before)
    await wait_for_documents(run.es, f"{run.prefix}alerts-*", 20)
    stack.stop_service("elasticsearch")
    try:
        during = [process_exec("/bin/bash", f"bash -i during {n}") for n in range(30)]
        await run.produce((b"web01", encoded(event)) for event in during)
        await asyncio.sleep(5)
    finally:
        stack.start_service("elasticsearch")
    alerts = await wait_for_documents(run.es, f"{run.prefix}alerts-*", 50, timeout_s=120)
    assert len(alerts) == 50, run.logs()
    # A batch's events are indexed after its alerts (and may still be in their retry backoff).
    events = await wait_for_documents(run.es, f"{run.prefix}events-*", 50, timeout_s=60)
    assert len(events) == 50
