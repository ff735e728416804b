"""The real agent process signs every message with the key it enrolled, across a restart, and the
collector's classifier verifies what reached Kafka against the entry ``canhgac-agent enroll`` printed."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiokafka import AIOKafkaConsumer, TopicPartition

from collector.keyring import load_keyring
from collector.origin import classify
from event_contract import decode_event_document
from event_contract.signing import KEY_ID_HEADER, header_value
from tests.e2e.agent_process import REPO, AgentProcess, agent_config, create_topic, sequence_faults

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(180)]


def enroll(config: Path) -> dict[str, Any]:
    printed = subprocess.run(
        [sys.executable, "-m", "agent.cli", "enroll", "--config", str(config)],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    entries = yaml.safe_load(printed)["agents"]
    assert len(entries) == 1
    return dict(entries[0])


async def records(bootstrap: str, topic: str, at_least: int) -> list[Any]:
    partition = TopicPartition(topic, 0)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        found: list[Any] = []
        for _ in range(60):
            batches = await consumer.getmany(partition, timeout_ms=500)
            found += batches.get(partition, [])
            if len(found) >= at_least:
                break
        return found
    finally:
        await consumer.stop()


async def test_every_message_is_signed_by_the_enrolled_key_across_a_restart(
    stack: Any, tmp_path: Path
) -> None:
    topic = f"e2e-sign-{uuid.uuid4().hex[:8]}"
    await create_topic(stack.kafka_bootstrap, topic)
    config = agent_config(stack.kafka_bootstrap, topic, tmp_path / "state", sensors={})
    with AgentProcess(tmp_path, config) as agent:
        entry = enroll(agent.config_path)
        assert enroll(agent.config_path) == entry, "enrolling again prints the same entry"
        keyring_path = tmp_path / "keyring.yaml"
        keyring_path.write_text(yaml.safe_dump({"agents": [entry]}))
        keyring = load_keyring(keyring_path)
        assert (tmp_path / "state" / "agent_key").stat().st_mode & 0o077 == 0

        for _ in range(2):  # a restart keeps the key and the sequence
            agent.start()
            before = len(await records(stack.kafka_bootstrap, topic, 0))
            await records(stack.kafka_bootstrap, topic, before + 3)
            code = agent.stop()
            assert code == 0, agent.log_tail()

    found = await records(stack.kafka_bootstrap, topic, 6)
    assert len(found) >= 6, agent.log_tail()
    documents = [decode_event_document(record.value) for record in found]
    assert not sequence_faults(event for _, event in documents)
    for record, (document, event) in zip(found, documents, strict=True):
        assert header_value(record.headers, KEY_ID_HEADER) == entry["key_id"].encode()
        verdict = classify(keyring, record.headers, record.value, document)
        assert verdict.status == "verified", verdict
        assert event.agent.id == entry["agent_id"]
        assert event.host.name in entry["host_names"]
        tampered = record.value.replace(b'"sequence":', b'"sequence":1', 1)
        assert classify(keyring, record.headers, tampered, document).status == "bad_signature"
