"""Run real collector processes against the test stack, each test with its own topics and indices."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from elasticsearch import ApiError

from tests.support.es import EsAccess
from tests.support.kafka import KafkaAccess, allow_collector_prefix

REPO = Path(__file__).resolve().parents[2]
PIPELINE = REPO / "rules" / "pipelines" / "linux-ecs.yml"


@dataclass
class CollectorRun:
    """Names for one test's collectors: unique topics, consumer group and index prefix.

    ``kafka`` is the super user, which creates the topics and produces and reads in the test's place;
    the collector processes log in as ``collector_kafka`` when given (see :meth:`grant_collector`).
    """

    kafka: KafkaAccess
    es: EsAccess
    """How the test reads back what was indexed (the superuser)."""
    rules_dir: Path
    workdir: Path
    collector_kafka: KafkaAccess | None = None
    collector_es: EsAccess | None = None
    """How the collector processes connect (default ``es``); a least-privilege user proves its role."""
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    extra_settings: dict[str, Any] = field(default_factory=dict)
    """Further top-level sections of the collector configuration (e.g. ``origin``)."""

    @property
    def events_topic(self) -> str:
        return f"t{self.suffix}.events"

    @property
    def dead_letter_topic(self) -> str:
        return f"t{self.suffix}.dead-letter"

    @property
    def correlation_topic(self) -> str:
        return f"t{self.suffix}.correlation"

    @property
    def prefix(self) -> str:
        return f"t{self.suffix}-"

    def config_file(self) -> Path:
        config = {
            "kafka": (self.collector_kafka or self.kafka).config()
            | {
                "events_topic": self.events_topic,
                "dead_letter_topic": self.dead_letter_topic,
                "correlation_topic": self.correlation_topic,
                "group_id": f"t{self.suffix}",
                "poll_timeout_ms": 100,
            },
            "elasticsearch": (self.collector_es or self.es).collector_section(self.prefix),
            "detection": {"rules": [str(self.rules_dir)], "pipeline": str(PIPELINE)},
            **self.extra_settings,
        }
        path = self.workdir / "collector.yaml"
        path.write_text(yaml.safe_dump(config))
        return path

    async def create_topics(self, partitions: int = 4) -> None:
        admin = AIOKafkaAdminClient(**self.kafka.client_kwargs())
        await admin.start()
        try:
            await admin.create_topics(
                [
                    NewTopic(name, num_partitions=partitions, replication_factor=1)
                    for name in (self.events_topic, self.dead_letter_topic, self.correlation_topic)
                ]
            )
        finally:
            await admin.close()

    async def grant_collector(self, collector: KafkaAccess) -> None:
        """Run the collectors as ``collector`` (the stack's collector principal), granted this test's
        topics and groups only (PREFIXED ACLs on ``t<suffix>``), as production grants the real topics."""
        if collector.username is None:
            raise ValueError("the collector's access has no username")
        await allow_collector_prefix(self.kafka, collector.username, f"t{self.suffix}")
        self.collector_kafka = collector

    def start_collector(self) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"collector-{len(self.processes)}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "collector.cli", "run", "--config", str(self.config_file())],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        process.send_signal(sig)
        process.wait(timeout=60)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.workdir.glob("*.log")))

    async def produce(self, messages: Iterable[tuple[bytes, bytes]]) -> None:
        producer = AIOKafkaProducer(**self.kafka.client_kwargs(), acks="all", enable_idempotence=True)
        await producer.start()
        try:
            for key, value in messages:
                await producer.send_and_wait(self.events_topic, value=value, key=key)
        finally:
            await producer.stop()

    async def dead_letters(self, expected: int, timeout_s: float = 60) -> list[Any]:
        consumer = AIOKafkaConsumer(
            self.dead_letter_topic, **self.kafka.client_kwargs(), auto_offset_reset="earliest"
        )
        await consumer.start()
        found: list[Any] = []
        deadline = time.monotonic() + timeout_s
        try:
            while len(found) < expected and time.monotonic() < deadline:
                batches = await consumer.getmany(timeout_ms=500)
                found += [record for records in batches.values() for record in records]
        finally:
            await consumer.stop()
        return found


async def search(es: EsAccess, index: str, query: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    async with es.client() as client:
        if not await client.indices.exists(index=index):
            return []
        await client.indices.refresh(index=index)
        response = await client.search(
            index=index, query=query or {"match_all": {}}, size=1000, expand_wildcards="open"
        )
        return [hit["_source"] | {"_id": hit["_id"]} for hit in response["hits"]["hits"]]


async def wait_for_documents(
    es: EsAccess, index: str, expected: int, timeout_s: float = 90, query: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        try:
            found = await search(es, index, query)
        except ApiError as error:
            # An index created a moment ago answers 503 until its primary shard has started.
            if error.meta.status != 503:
                raise
            found = []
        if len(found) >= expected:
            return found
        await asyncio.sleep(0.5)
    return found
