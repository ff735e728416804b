"""Read back what a fault run left behind: every record of a topic, every document of an index family,
and the consumer group's committed offsets. Plain reads, no interpretation (that is the checker's)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from elasticsearch.helpers import async_scan

from tests.support.es import EsAccess
from tests.support.kafka import KafkaAccess


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


async def read_records(kafka: KafkaAccess, topic: str, until: dict[int, int] | None = None) -> list[Record]:
    """Every record of ``topic`` from the beginning to the end offsets (or to ``until`` per partition)."""
    consumer = AIOKafkaConsumer(
        **kafka.client_kwargs(), enable_auto_commit=False, fetch_max_bytes=16 * 1024 * 1024
    )
    await consumer.start()
    try:
        partitions = await _partitions(kafka, topic)
        assigned = [TopicPartition(topic, partition) for partition in partitions]
        if not assigned:
            return []
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        stops = {tp: min(ends[tp], (until or {}).get(tp.partition, ends[tp])) for tp in assigned}
        found: list[Record] = []
        while [tp for tp in assigned if await consumer.position(tp) < stops[tp]]:
            batches = await consumer.getmany(*assigned, timeout_ms=1000)
            for tp, records in batches.items():
                found.extend(
                    Record(tp.partition, r.offset, r.key, r.value or b"", dict(r.headers))
                    for r in records
                    if r.offset < stops[tp]
                )
        return found
    finally:
        await consumer.stop()


async def _partitions(kafka: KafkaAccess, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        (description,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(int(partition["partition"]) for partition in description["partitions"])


async def end_offsets(kafka: KafkaAccess, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(**kafka.client_kwargs(), enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = await _partitions(kafka, topic)
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return {tp.partition: offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def committed_offsets(kafka: KafkaAccess, group_id: str, topic: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group_id)
    finally:
        await admin.close()
    return {
        tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset >= 0
    }


async def documents(es: EsAccess, index: str, fields: Sequence[str]) -> list[dict[str, Any]]:
    """Every document of the index pattern (after a refresh), ``_source`` limited to ``fields``, plus _id."""
    async with es.client() as client:
        await client.indices.refresh(index=index, allow_no_indices=True, ignore_unavailable=True)
        return [
            hit["_source"] | {"_id": hit["_id"]}
            async for hit in async_scan(
                client,
                index=index,
                query={"query": {"match_all": {}}, "_source": list(fields)},
                size=2000,
                ignore_unavailable=True,
                allow_no_indices=True,
            )
        ]


def dotted(document: dict[str, Any], path: str) -> Any:
    """``document["a"]["b"]`` for ``"a.b"``; None when any step is missing."""
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
