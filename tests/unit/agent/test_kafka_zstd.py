"""The agent's default codec, zstd: the producer is asked for it, and its batches read back."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from aiokafka.record import default_records
from aiokafka.record.memory_records import MemoryRecords

from agent.config import KafkaConfig
from agent.publisher import producer_options

_ZSTD = 4  # Kafka's attribute code for zstd


def test_zstd_is_the_default_and_the_producer_accepts_it() -> None:
    options = producer_options(KafkaConfig(bootstrap="127.0.0.1:1"))
    assert options["compression_type"] == "zstd"

    async def made() -> None:
        # aiokafka refuses a codec whose library is missing when the producer is made: cramjam is there.
        producer = AIOKafkaProducer(**options)
        await producer.stop()

    asyncio.run(made())


def test_gzip_and_none_stay_available() -> None:
    assert producer_options(KafkaConfig(bootstrap="h:1", compression="gzip"))["compression_type"] == "gzip"
    assert producer_options(KafkaConfig(bootstrap="h:1", compression="none"))["compression_type"] is None


def test_a_zstd_batch_reads_back_record_by_record_and_is_compressed() -> None:
    values = [b'{"event":{"sequence":%d},"message":"synthetic login %d"}' % (i, i) for i in range(500)]
    builder = default_records.DefaultRecordBatchBuilder(2, _ZSTD, 0, -1, -1, -1, 1 << 20)
    for offset, value in enumerate(values):
        assert builder.append(offset, timestamp=None, key=b"host", value=value, headers=[]) is not None
    built = bytes(builder.build())
    assert len(built) < sum(map(len, values)) // 4
    batch = MemoryRecords(built).next_batch()
    assert batch is not None
    assert batch.compression_type == _ZSTD
    assert [record.value for record in batch] == values
