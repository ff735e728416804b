"""Prometheus metrics of ``canhgac-collector run``, served on ``metrics.host:metrics.port`` (``/metrics``).

Most figures are read at scrape time from what the pipeline already counts (:class:`~collector.pipeline.
Counters`), so the hot path pays nothing for them; only the per-batch step timings, the Elasticsearch write
latencies and the commit time are recorded as they happen. The registry is the process's own, not the
global default, so a test process may run several collectors.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from collector.pipeline import Counters
from collector.sinks import Document, DocumentSink, WriteReport

log = logging.getLogger(__name__)

# Batch steps take from a millisecond (decode of a small batch) to tens of seconds (a write retried while
# Elasticsearch is away): buckets cover both ends.
STEP_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
COUNTER_FIELDS = {
    "consumed": "Kafka records consumed",
    "dead_lettered": "records sent to the dead-letter topic (undecodable or not indexable)",
    "events_indexed": "events written to Elasticsearch (created or already present after a replay)",
    "alerts_created": "alerts written to Elasticsearch for the first time",
    "alerts_replayed": "alerts found already written (a batch replayed after a restart)",
    "write_retries": "writes retried because Elasticsearch or Kafka was unavailable",
    "correlation_inputs": "correlation inputs processed",
    "correlation_duplicates": "correlation inputs seen twice and skipped",
}


class TimedCounters(Counters):
    """The pipeline's counters that also feed each step's duration to a histogram (``detect`` is the
    detection time of one batch)."""

    def __init__(self, steps: Histogram, stage: str) -> None:
        super().__init__()
        self._steps = steps
        self._stage = stage

    @contextlib.contextmanager
    def timing(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            with super().timing(step):
                yield
        finally:
            self._steps.labels(self._stage, step).observe(time.perf_counter() - started)


@dataclass
class TimedSink:
    """A :class:`DocumentSink` whose writes are timed per index family (a batch of alerts, of events)."""

    inner: DocumentSink
    latency: Histogram

    async def start(self) -> None:
        await self.inner.start()

    async def close(self) -> None:
        await self.inner.close()

    async def write(self, documents: Sequence[Document]) -> WriteReport:
        families = {document.family for document in documents}
        family = families.pop() if len(families) == 1 else "mixed"
        started = time.perf_counter()
        try:
            return await self.inner.write(documents)
        finally:
            self.latency.labels(family).observe(time.perf_counter() - started)


class Lagging(Protocol):
    """What the lag watch needs of an aiokafka consumer."""

    def assignment(self) -> set[Any]: ...

    def highwater(self, partition: Any) -> int | None: ...

    async def position(self, partition: Any) -> int: ...


@dataclass
class CollectorMetrics:
    """Everything the collector exposes. ``stages`` and ``rules_loaded`` are read at each scrape."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    stages: dict[str, Counters] = field(default_factory=dict)
    rules_loaded: Callable[[], Mapping[str, int]] = dict

    def __post_init__(self) -> None:
        self.steps = Histogram(
            "canhgac_collector_step_seconds",
            "Time one batch spent in a pipeline step (detect: the detection time of the batch)",
            ["stage", "step"],
            buckets=STEP_BUCKETS,
            registry=self.registry,
        )
        self.es_write = Histogram(
            "canhgac_collector_es_write_seconds",
            "Time of one bulk write attempt to Elasticsearch (a failed one too), by index family",
            ["family"],
            buckets=STEP_BUCKETS,
            registry=self.registry,
        )
        self.lag = Gauge(
            "canhgac_collector_consumer_lag",
            "Records between this process's position and the partition's end, per assigned partition",
            ["topic", "partition"],
            registry=self.registry,
        )
        self.last_commit = Gauge(
            "canhgac_collector_last_commit_timestamp_seconds",
            "When offsets were last committed (Unix time), by topic",
            ["topic"],
            registry=self.registry,
        )
        self._owned: dict[int, set[tuple[str, str]]] = {}
        self.registry.register(_PipelineCollector(self))

    def counters(self, stage: str) -> Counters:
        """A :class:`Counters` for the stage named ``stage``, exported at every scrape."""
        counters = TimedCounters(self.steps, stage)
        self.stages[stage] = counters
        return counters

    def timed(self, sink: DocumentSink) -> DocumentSink:
        return TimedSink(sink, self.es_write)

    def committed(self, topics: Iterable[str]) -> None:
        now = time.time()
        for topic in set(topics):
            self.last_commit.labels(topic).set(now)

    async def watch_lag(self, consumer: Lagging) -> None:
        """Refresh the lag gauges of ``consumer``'s partitions (the high watermark is what the last fetch
        saw, so the figure is as fresh as the last poll)."""
        owned: set[tuple[str, str]] = set()
        for tp in consumer.assignment():
            end = consumer.highwater(tp)
            if end is None:
                continue
            position = await consumer.position(tp)
            self.lag.labels(tp.topic, str(tp.partition)).set(max(end - position, 0))
            owned.add((tp.topic, str(tp.partition)))
        # A partition taken away by a rebalance is another process's to report now.
        for labels in self._owned.get(id(consumer), set()) - owned:
            self.lag.remove(*labels)
        self._owned[id(consumer)] = owned

    def serve(self, host: str, port: int) -> Callable[[], None]:
        """Start serving ``/metrics`` in a thread of its own; returns the function that stops it."""
        server, thread = start_http_server(port, addr=host, registry=self.registry)
        log.info("metrics on http://%s:%d/metrics", host, server.server_port)

        def stop() -> None:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

        return stop


class _PipelineCollector(Collector):
    def __init__(self, metrics: CollectorMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        stages = dict(self._metrics.stages)
        for name, text in COUNTER_FIELDS.items():
            family = CounterMetricFamily(f"canhgac_collector_{name}", text, labels=["stage"])
            for stage, counters in stages.items():
                family.add_metric([stage], getattr(counters, name))
            yield family
        rules = GaugeMetricFamily(
            "canhgac_collector_rules_loaded", "Rules loaded and in use, by kind", labels=["kind"]
        )
        for kind, count in self._metrics.rules_loaded().items():
            rules.add_metric([kind], count)
        yield rules
