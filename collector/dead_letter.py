"""The dead-letter topic: messages the collector cannot use, kept with the reason and where they came from."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from collector.sinks import SinkUnavailable
from event_contract import dead_letter_headers

MAX_KEPT_BYTES = 512 * 1024
"""A larger message is dead-lettered truncated, with its size and SHA-256 in headers: re-publishing it
whole could exceed what the producer or the topic accepts and turn one bad message into a poison pill."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    reason: str


class DeadLetterPublisher:
    """Publishes rejected messages. ``publish`` returns once Kafka has acknowledged every one of them, so
    the pipeline may then commit past them; when Kafka cannot take them it raises :class:`SinkUnavailable`
    and the pipeline retries (a retry may publish some letters twice: dead letters are at least once)."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic
        self.published = 0

    async def publish(self, letters: Sequence[DeadLetter]) -> None:
        try:
            pending = [await self._send(letter) for letter in letters]
            await asyncio.gather(*pending)
        except KafkaError as error:
            raise SinkUnavailable(f"dead-letter topic unavailable: {error!r}") from error
        self.published += len(letters)

    async def _send(self, letter: DeadLetter) -> asyncio.Future[object]:
        headers = dead_letter_headers(letter.reason, letter.topic, letter.partition, letter.offset)
        value = letter.value
        if len(value) > MAX_KEPT_BYTES:
            headers += [
                ("canhgac.original_size", str(len(value)).encode()),
                ("canhgac.original_sha256", hashlib.sha256(value).hexdigest().encode()),
            ]
            value = value[:MAX_KEPT_BYTES]
        future: asyncio.Future[object] = await self._producer.send(
            self._topic, value=value, key=letter.key, headers=headers
        )
        return future
