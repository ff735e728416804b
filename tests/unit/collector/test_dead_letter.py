"""Dead letters: kept with their reason and source; oversized ones truncated; a Kafka outage is retriable."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError

from collector.dead_letter import MAX_KEPT_BYTES, DeadLetter, DeadLetterPublisher
from collector.sinks import SinkUnavailable


class Producer:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail = fail

    async def send(self, topic: str, **record: Any) -> asyncio.Future[object]:
        if self.fail:
            raise KafkaTimeoutError()
        self.sent.append({"topic": topic, **record})
        done: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_letters_keep_bytes_reason_and_source() -> None:
    producer = Producer()
    publisher = DeadLetterPublisher(producer, "dlq")
    await publisher.publish([DeadLetter("events", 3, 42, b"k", b"{bad", "not JSON: x")])
    (record,) = producer.sent
    headers = dict(record["headers"])
    assert record["value"] == b"{bad"
    assert headers["canhgac.reason"] == b"not JSON: x"
    assert headers["canhgac.source"] == b"events/3/42"


async def test_an_oversized_message_is_truncated_with_its_size_and_digest() -> None:
    producer = Producer()
    huge = b"x" * (MAX_KEPT_BYTES * 3)
    await DeadLetterPublisher(producer, "dlq").publish(
        [DeadLetter("events", 0, 1, None, huge, "message is too large")]
    )
    (record,) = producer.sent
    headers = dict(record["headers"])
    assert len(record["value"]) == MAX_KEPT_BYTES
    assert headers["canhgac.original_size"] == str(len(huge)).encode()
    assert headers["canhgac.original_sha256"] == hashlib.sha256(huge).hexdigest().encode()


async def test_kafka_unavailable_is_reported_as_retriable() -> None:
    publisher = DeadLetterPublisher(Producer(fail=True), "dlq")
    with pytest.raises(SinkUnavailable, match="dead-letter topic unavailable"):
        await publisher.publish([DeadLetter("events", 0, 1, None, b"x", "r")])
