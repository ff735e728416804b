"""The agent's gzip for Kafka record batches: level 1, and batches Kafka's readers decode."""

from __future__ import annotations

import gzip
import sys

from aiokafka.record import default_records
from aiokafka.record.memory_records import MemoryRecords

from agent import kafka_gzip
from agent.config import KafkaConfig
from agent.publisher import KafkaPublisher

_GZIP = 1


def _events(count: int) -> list[bytes]:
    return [b'{"event":{"sequence":%d},"message":"synthetic login %d","user":{"name":"u"}}' % (i, i)
            for i in range(count)]  # fmt: skip


def test_the_publisher_installs_level_1_gzip_in_every_batch_builder() -> None:
    KafkaPublisher(KafkaConfig(bootstrap="127.0.0.1:1"))
    # The builder the producer uses: aiokafka's C extension when it is built, else the Python one.
    builder = default_records.DefaultRecordBatchBuilder(2, _GZIP, 0, -1, -1, -1, 1 << 20)
    assert sys.modules[type(builder).__module__].gzip_encode is kafka_gzip.gzip_encode


def test_level_1_output_is_standard_gzip_and_cheaper_than_level_9() -> None:
    payload = b"".join(_events(2000))
    ours = kafka_gzip.gzip_encode(payload)
    assert gzip.decompress(ours) == payload
    assert len(ours) != len(gzip.compress(payload, 9))  # really another level than aiokafka's own


def test_a_batch_built_with_it_reads_back_record_by_record() -> None:
    kafka_gzip.install()
    builder = default_records.DefaultRecordBatchBuilder(2, _GZIP, 0, -1, -1, -1, 1 << 20)
    values = _events(500)
    for offset, value in enumerate(values):
        assert builder.append(offset, timestamp=None, key=b"host", value=value, headers=[]) is not None
    records = MemoryRecords(bytes(builder.build()))
    batch = records.next_batch()
    assert batch is not None
    assert batch.compression_type == _GZIP
    assert [record.value for record in batch] == values
