"""Security: an agent cannot produce as another agent or host without being flagged (real Kafka and ES).

Two enrolled agents (web01, db01) sign with their own keys; forged, unsigned, tampered and unknown-key
messages, a sequence gap and a replay each give exactly one alert; a redelivered batch gives none, also
after the collector is killed and a fresh one rebuilds its sequence state from Elasticsearch."""

from __future__ import annotations

import asyncio
import copy
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from aiokafka import AIOKafkaProducer

from collector.integrity_alerts import (
    ORIGIN_BAD_SIGNATURE,
    ORIGIN_IDENTITY_MISMATCH,
    ORIGIN_UNKNOWN_KEY,
    ORIGIN_UNSIGNED,
    SEQUENCE_GAP,
    SEQUENCE_REPLAY,
)
from event_contract.signing import encode_key, generate_key, key_id, signature_headers
from tests.integration.collector_harness import CollectorRun, search, wait_for_documents
from tests.support.events import envelope

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

Record = tuple[bytes, bytes, list[tuple[str, bytes]]]


class Agent:
    """An enrolled agent as the real one behaves: host-id key, its own sequence, signed values."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.agent_id = f"agent-{host}-{uuid.uuid4().hex[:6]}"
        self.host_id = f"host-{host}"
        self.key = generate_key()
        self.sequence = 0

    def entry(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "host_names": [self.host],
            "host_ids": [self.host_id],
            "key_id": key_id(self.key),
            "key": encode_key(self.key),
        }

    def event(self, sequence: int | None = None) -> dict[str, Any]:
        if sequence is None:
            self.sequence += 1
            sequence = self.sequence
        event = envelope("canhgac.authentication", ["authentication"], ["start"], host=self.host)
        event["event"]["action"] = "logged-in"
        event["event"]["sequence"] = sequence
        event["agent"]["id"] = self.agent_id
        event["host"]["id"] = self.host_id
        return event

    def signed(self, event: dict[str, Any], key: bytes | None = None) -> Record:
        value = orjson.dumps(event)
        signing_key = key or self.key
        return self.host_id.encode(), value, signature_headers(signing_key, key_id(signing_key), value)


async def produce(run: CollectorRun, records: list[Record]) -> None:
    producer = AIOKafkaProducer(**run.kafka.client_kwargs(), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for key, value, headers in records:
            await producer.send_and_wait(run.events_topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


async def until_indexed(run: CollectorRun, event_id: str) -> None:
    """Alerts of a batch are written before its events: once this event is indexed, everything sent
    before it in its partition was judged."""
    found = await wait_for_documents(
        run.es, f"{run.prefix}events-*", 1, query={"term": {"event.id": event_id}}
    )
    assert found, run.logs()


async def integrity_alerts(run: CollectorRun) -> Counter[str]:
    alerts = await search(run.es, f"{run.prefix}alerts-*")
    return Counter(str(alert["rule"]["id"]) for alert in alerts)


@pytest.fixture
def run(stack: Any, tmp_path: Path) -> Any:
    rules = tmp_path / "rules"
    rules.mkdir()
    collectors = CollectorRun(stack.kafka, stack.es, rules, tmp_path)
    asyncio.run(collectors.create_topics(partitions=1))  # one partition: one order for every message
    yield collectors
    collectors.stop_all()


async def test_forged_unsigned_tampered_gaps_and_replays_are_flagged_redelivery_is_not(
    run: CollectorRun, tmp_path: Path
) -> None:
    web, db = Agent("web01"), Agent("db01")
    keyring = tmp_path / "keyring.yaml"
    keyring.write_text(yaml.safe_dump({"agents": [web.entry(), db.entry()]}))
    run.extra_settings = {"origin": {"keyring": str(keyring)}}
    run.start_collector()

    honest = [web.signed(web.event()) for _ in range(5)] + [db.signed(db.event()) for _ in range(3)]
    # db01's real key, claiming to be web01: correctly signed, wrong identity.
    as_web = db.signed(web.event(sequence=100), key=db.key)
    unsigned_key, unsigned_value, _ = web.signed(web.event(sequence=101))
    unsigned: Record = (unsigned_key, unsigned_value, [])
    tampered_event = web.event(sequence=102)
    _, tampered_value, tampered_headers = web.signed(tampered_event)
    tampered = (web.host_id.encode(), tampered_value.replace(b"logged-in", b"logged-out"), tampered_headers)
    stranger = generate_key()
    unknown = web.signed(web.event(sequence=103), key=stranger)
    gap = [web.signed(web.event(sequence=6)), web.signed(web.event(sequence=9))]  # 7 and 8 never sent
    web.sequence = 9
    replay_event = web.event(sequence=4)  # a new event id on a number web01 already used
    redelivered = honest[:3]  # the same messages again, as after a lost acknowledgement
    marker = web.event()
    await produce(
        run, [*honest, as_web, unsigned, tampered, unknown, *gap, web.signed(replay_event), *redelivered]
    )
    await produce(run, [web.signed(marker)])
    await until_indexed(run, marker["event"]["id"])

    found = await integrity_alerts(run)
    assert found == Counter(
        {
            ORIGIN_IDENTITY_MISMATCH.id: 1,
            ORIGIN_UNSIGNED.id: 1,
            ORIGIN_BAD_SIGNATURE.id: 1,
            ORIGIN_UNKNOWN_KEY.id: 1,
            SEQUENCE_GAP.id: 1,
            SEQUENCE_REPLAY.id: 1,
        }
    ), run.logs()
    alerts = await search(run.es, f"{run.prefix}alerts-*")
    by_rule = {alert["rule"]["id"]: alert for alert in alerts}
    assert by_rule[SEQUENCE_GAP.id]["canhgac"]["alert"]["sequence"] == {"first": 7, "last": 8, "count": 2}
    assert "sequence 7-8" in by_rule[SEQUENCE_GAP.id]["message"]
    assert by_rule[ORIGIN_IDENTITY_MISMATCH.id]["canhgac"]["origin"]["key_id"] == key_id(db.key)
    assert by_rule[SEQUENCE_REPLAY.id]["canhgac"]["alert"]["event_ids"] == [replay_event["event"]["id"]]
    for alert in alerts:
        assert alert["canhgac"]["alert"]["incident_id"], "integrity alerts join incidents like any other"

    statuses = Counter(
        (event["event"]["sequence"], event["canhgac"]["origin"]["status"])
        for event in await search(run.es, f"{run.prefix}events-*")
    )
    assert statuses[(100, "identity_mismatch")] == 1
    assert statuses[(102, "bad_signature")] == 1
    assert sum(n for (_, status), n in statuses.items() if status == "verified") == 5 + 3 + 2 + 1 + 1, (
        "honest, gap, replay, marker; redelivery is no new document"
    )

    # kill -9 and a fresh collector: it knows nothing in memory and must not alert on redelivery.
    run.kill(run.processes[0])
    run.start_collector()
    again = [web.signed(copy.deepcopy(marker))] + redelivered
    after_gap = web.event(sequence=web.sequence + 2)
    await produce(run, [*again, web.signed(after_gap)])
    await until_indexed(run, after_gap["event"]["id"])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (await integrity_alerts(run))[SEQUENCE_GAP.id] < 2:  # noqa: ASYNC110
        await asyncio.sleep(0.5)
    found_after = await integrity_alerts(run)
    assert found_after - found == Counter({SEQUENCE_GAP.id: 1}), run.logs()
