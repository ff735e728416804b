"""The dead-letter topic: messages the collector cannot use, kept whole with the reason."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from event_contract import dead_letter_headers


@dataclass(frozen=True, slots=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    reason: str


class DeadLetterPublisher:
    """Publishes rejected messages; ``publish`` returns once Kafka has acknowledged every one of them,
    so the pipeline may then commit past them."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic
        self.published = 0

    async def publish(self, letters: Sequence[DeadLetter]) -> None:
        pending = [
            await self._producer.send(
                self._topic,
                value=letter.value,
                key=letter.key,
                headers=dead_letter_headers(letter.reason, letter.topic, letter.partition, letter.offset),
            )
            for letter in letters
        ]
        await asyncio.gather(*pending)
        self.published += len(letters)
