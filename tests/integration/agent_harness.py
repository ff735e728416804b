"""A real agent process with a synthetic sensor, and a reader of what reached Kafka.

Run as a program it is the installed agent (``agent.service.run_agent``) plus :class:`CountingSensor`:

    python tests/integration/agent_harness.py --config agent.yaml --rate 200
    python tests/integration/agent_harness.py --config agent.yaml --count 50000 --rate 0 --report

``--report`` stops the agent once every synthetic event is acknowledged and prints throughput, CPU and
peak RSS as JSON on stdout (the measurement in docs/agent.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agent.config import load_config
from agent.counters import Counters
from agent.jsonlog import configure_logging
from agent.sensors.base import Observation
from agent.service import run_agent, run_event_loop
from event_contract import Dataset, Event, decode_event
from event_contract.wire_types import SensorHealthWire as SensorHealth
from tests.support.kafka import KafkaAccess

TICK_S = 0.05
"""How often a paced :class:`CountingSensor` wakes up."""


class CountingSensor:
    """Yields login-shaped observations numbered 0, 1, 2, … at ``rate`` per second (0: as fast as the
    pipeline takes them), ``count`` of them (0: forever)."""

    name = "counting"

    def __init__(self, rate: float, count: int) -> None:
        self._rate = rate
        self._count = count
        self.emitted = 0

    async def observe(self) -> AsyncIterator[Observation]:
        started = time.monotonic()
        due = 1
        while not self._count or self.emitted < self._count:
            yield Observation(
                dataset=Dataset.AUTHENTICATION,
                category=("authentication",),
                type=("start",),
                action="logged-in",
                timestamp=datetime.now(UTC),
                fields={"user": {"name": f"user{self.emitted}"}, "source": {"ip": "198.51.100.20"}},
                outcome="success",
                message=f"synthetic {self.emitted}",
            )
            self.emitted += 1
            if self._rate and self.emitted >= due:
                # What is due is yielded together and the sensor sleeps until the next tick: a real sensor
                # yields what it read at one wakeup (a poll of the auth log, a drain of the connector).
                ahead = self.emitted / self._rate - (time.monotonic() - started)
                await asyncio.sleep(max(ahead, TICK_S))
                due = max(int((time.monotonic() - started) * self._rate), self.emitted + 1)
        await asyncio.Event().wait()

    def health(self) -> SensorHealth:
        return SensorHealth(status="ok", detail=f"{self.emitted} emitted")


@dataclass(frozen=True)
class Delivered:
    partition: int
    offset: int
    key: bytes | None
    event: Event


async def create_topic(kafka: KafkaAccess, topic: str, partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    finally:
        await admin.close()


async def read_topic(kafka: KafkaAccess, topic: str, partitions: int = 3) -> list[Delivered]:
    """Every record on ``topic`` now, per partition in offset order, decoded with the contract."""
    consumer = AIOKafkaConsumer(**kafka.client_kwargs(), enable_auto_commit=False)
    await consumer.start()
    try:
        assigned = [TopicPartition(topic, partition) for partition in range(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        found: list[Delivered] = []
        while [tp for tp in assigned if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(*assigned, timeout_ms=1000)
            for tp, records in batches.items():
                found.extend(Delivered(tp.partition, r.offset, r.key, decode_event(r.value)) for r in records)
        return sorted(found, key=lambda item: (item.partition, item.offset))
    finally:
        await consumer.stop()


async def _run(config_path: Path, rate: float, count: int, report: bool) -> None:
    config = load_config(config_path)
    sensor = CountingSensor(rate, count)
    counters = WatchedCounters()
    watcher = asyncio.create_task(_report_when_delivered(counters, count)) if report else None
    await run_agent(config, [sensor], counters)
    if watcher is not None:
        print(orjson.dumps(await watcher).decode(), flush=True)


class WatchedCounters(Counters):
    """Counters that wake a waiter when a count reaches a target: the watcher measures inside the agent's
    process, and polling the counters every 10 ms cost ~1 % of a core there."""

    def __init__(self) -> None:
        super().__init__()
        self._watches: dict[str, tuple[int, asyncio.Event]] = {}

    async def reached(self, name: str, target: int) -> None:
        if self.get(name) < target:
            self._watches[name] = (target, asyncio.Event())
            await self._watches[name][1].wait()

    def add(self, name: str, amount: int = 1) -> None:
        super().add(name, amount)
        watch = self._watches.get(name)
        if watch is not None and self.get(name) >= watch[0]:
            del self._watches[name]
            watch[1].set()


async def _report_when_delivered(counters: WatchedCounters, count: int) -> dict[str, float]:
    """Wait until ``count`` synthetic events are acknowledged, then measure and stop the agent."""
    await counters.reached("counting.observed", 1)
    started, cpu_started = time.monotonic(), time.process_time()
    await counters.reached("kafka.delivered", count)
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_started
    os.kill(os.getpid(), signal.SIGTERM)
    return {
        "events": count,
        "seconds": round(elapsed, 3),
        "events_per_s": round(count / elapsed),
        "cpu_percent_of_one_core": round(100 * cpu / elapsed, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--rate", type=float, default=100.0, help="events per second; 0 for unthrottled")
    parser.add_argument("--count", type=int, default=0, help="events to emit; 0 for unbounded")
    parser.add_argument(
        "--report", action="store_true", help="exit after --count acknowledged; print figures"
    )
    arguments = parser.parse_args()
    if arguments.report and not arguments.count:
        parser.error("--report needs --count")
    configure_logging("WARNING" if arguments.report else "INFO")
    run_event_loop(lambda: _run(arguments.config, arguments.rate, arguments.count, arguments.report))


if __name__ == "__main__":
    main()
