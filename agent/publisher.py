"""Sending spooled events to Kafka and learning which ones the brokers acknowledged."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.helpers import create_ssl_context
from aiokafka.partitioner import DefaultPartitioner

from agent import kafka_gzip
from agent.config import KafkaConfig
from agent.enrollment import SigningKey
from agent.spool import SpooledEvent
from event_contract.signing import Signer

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 5.0
"""How long closing a producer may take; with the brokers gone its flush would otherwise hang."""


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """How a batch fared: the first ``acknowledged`` events of it are durably in Kafka (acks=all); if
    ``error`` is set, the rest are not known to be and must be sent again."""

    acknowledged: int
    error: BaseException | None = None


class Publisher(Protocol):
    """A connection to the events topic.

    Lifecycle: ``start()`` connects and raises if it cannot (the caller retries with backoff); then
    ``publish()`` any number of times; ``stop()`` always, even after a failed start. After an
    acknowledgement with an error the caller stops and starts the publisher before sending again, so a
    fresh producer session resends from the first unacknowledged event and order is kept.
    """

    async def start(self) -> None: ...

    async def publish(self, batch: Sequence[SpooledEvent]) -> Acknowledgement:
        """Send ``batch`` in order and wait for every acknowledgement. Never raises for a send failure."""
        ...

    async def stop(self) -> None: ...


class KafkaPublisher:
    """A :class:`Publisher` on aiokafka: ``acks=all``, idempotent (no duplicates from its own retries,
    order kept within a partition), gzip at level 1 (needs no extra library), key = host id.

    Events are packed into record batches here and handed over a batch at a time (``send_batch``):
    ``send`` per event cost ~100 µs of Python each (a coroutine, a future, metadata and size checks),
    more than the rest of the pipeline. The idempotent producer numbers batches from either path alike.
    """

    def __init__(self, config: KafkaConfig, signing_key: SigningKey | None = None) -> None:
        kafka_gzip.install()  # gzip at level 1: see agent.kafka_gzip
        self._config = config
        self._sign = Signer(signing_key.key, signing_key.key_id).headers if signing_key else _no_headers
        self._producer: AIOKafkaProducer | None = None
        self._partitioner = RememberingPartitioner()

    async def start(self) -> None:
        producer = AIOKafkaProducer(**producer_options(self._config))
        try:
            await producer.start()
        except BaseException:
            await _stop_quietly(producer)
            raise
        self._producer = producer

    async def publish(self, batch: Sequence[SpooledEvent]) -> Acknowledgement:
        producer = self._producer
        if producer is None:
            return Acknowledgement(0, RuntimeError("publisher is not started"))
        pending: list[tuple[int, asyncio.Future[Any]]] = []  # (events in it, acknowledgement)
        send_error: BaseException | None = None
        try:
            topic = self._config.topic
            sign = self._sign
            partitions = sorted(await producer.partitions_for(topic))
            partition_of: dict[bytes, int] = {}  # an agent's rows share one key: one lookup per batch
            builder, partition, count = producer.create_batch(), -1, 0
            for row in batch:
                key, value = row.key, row.payload
                row_partition = partition_of.get(key)
                if row_partition is None:
                    row_partition = partition_of[key] = self._partitioner(key, partitions, partitions)
                if count and row_partition != partition:
                    pending.append((count, await _send(producer, builder, topic, partition)))
                    builder, count = producer.create_batch(), 0
                partition = row_partition
                headers = sign(value)
                if builder.append(key=key, value=value, timestamp=None, headers=headers) is None:
                    if not count:
                        raise ValueError(f"event {row.sequence} does not fit in a record batch")
                    pending.append((count, await _send(producer, builder, topic, partition)))
                    builder, count = producer.create_batch(), 0
                    if builder.append(key=key, value=value, timestamp=None, headers=headers) is None:
                        raise ValueError(f"event {row.sequence} does not fit in a record batch")
                count += 1
            if count:
                pending.append((count, await _send(producer, builder, topic, partition)))
        except Exception as error:  # aiokafka raises several families; all mean "not sent"
            send_error = error
        outcomes = await asyncio.gather(*(future for _, future in pending), return_exceptions=True)
        acknowledged = 0
        for (count, _), outcome in zip(pending, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                return Acknowledgement(acknowledged, outcome)
            acknowledged += count
        return Acknowledgement(acknowledged, send_error)

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await _stop_quietly(producer)


def producer_options(config: KafkaConfig) -> dict[str, Any]:
    """aiokafka keyword arguments for ``config``. Reads the password file; never log the result."""
    options: dict[str, Any] = {
        "bootstrap_servers": config.bootstrap,
        "client_id": config.client_id,
        "acks": "all",
        "enable_idempotence": True,
        "compression_type": None if config.compression == "none" else config.compression,
        "linger_ms": config.linger_ms,
        "max_batch_size": 256 * 1024,
        "request_timeout_ms": int(config.request_timeout_s * 1000),
        "retry_backoff_ms": 200,
        "partitioner": RememberingPartitioner(),
    }
    return options | security_options(config)


def security_options(config: KafkaConfig) -> dict[str, Any]:
    """aiokafka's TLS and SASL arguments for ``config`` (reads the password file; never log the result)."""
    options: dict[str, Any] = {"security_protocol": config.security_protocol}
    if config.security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(
            cafile=str(config.ssl_cafile) if config.ssl_cafile else None,
            certfile=str(config.ssl_certfile) if config.ssl_certfile else None,
            keyfile=str(config.ssl_keyfile) if config.ssl_keyfile else None,
        )
    if config.security_protocol.startswith("SASL"):
        options["sasl_mechanism"] = config.sasl_mechanism
        options["sasl_plain_username"] = config.username
        options["sasl_plain_password"] = config.sasl_password()
    return options


class RememberingPartitioner:
    """Kafka's default (murmur2) partitioner, remembered per key and partition count.

    An agent sends every event with the same key (its host id), and aiokafka's murmur2 is pure Python
    and costs more than the rest of ``send``; the result depends only on the key and the number of
    partitions, so it is computed once. The mapping stays the one every Kafka client uses.
    """

    def __init__(self) -> None:
        self._default = DefaultPartitioner()
        self._known: dict[tuple[bytes, tuple[int, ...]], int] = {}

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:
            return int(self._default(key, all_partitions, available))
        remembered = (key, tuple(all_partitions))
        partition = self._known.get(remembered)
        if partition is None:
            partition = int(self._default(key, all_partitions, available))
            self._known[remembered] = partition
        return partition


def _no_headers(value: bytes) -> list[tuple[str, bytes]]:
    return []


async def _send(producer: AIOKafkaProducer, builder: Any, topic: str, partition: int) -> asyncio.Future[Any]:
    """Hand a full or final record batch to the producer; the future of its acknowledgement. Closed first:
    aiokafka holds an open batch for ``linger_ms`` in case more is added (a timer and a wake-up per batch,
    and that much latency), which nothing will be here."""
    builder.close()
    acknowledgement: asyncio.Future[Any] = await producer.send_batch(builder, topic, partition=partition)
    return acknowledgement


async def _stop_quietly(producer: AIOKafkaProducer) -> None:
    try:
        await asyncio.wait_for(producer.stop(), STOP_TIMEOUT_S)
    except Exception as error:  # closing a broken connection may fail in many ways; none matters
        log.debug("producer stop failed", extra={"error": repr(error)})
