"""``canhgac-collector run``: the long-running collector process.

Builds the components from the configuration, joins the consumer group on the events topic and on the
internal correlation topic, and runs both stages of :mod:`collector.pipeline` until SIGTERM. SIGHUP
reloads the rules without a restart.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from collector import kafka
from collector.config import CollectorSettings, ConfigError, load_settings
from collector.correlation_feed import KafkaCorrelationFeed
from collector.dead_letter import DeadLetterPublisher
from collector.detection import DetectionEngine
from collector.detection.correlation import (
    CorrelationSet,
    CorrelationTracker,
    IdentityFieldResolver,
    PipelineFieldResolver,
    compile_correlations,
)
from collector.es_client import elasticsearch_client
from collector.incidents.agents import AgentInventory
from collector.incidents.service import IncidentService
from collector.keyring import KeyringError
from collector.metrics import CollectorMetrics
from collector.origin import OriginCheck
from collector.pipeline import CorrelationPipeline, EventPipeline, Message
from collector.sequence_history import ElasticsearchSequenceHistory
from collector.sequence_tracker import SequenceTracker
from collector.sinks import SinkUnavailable
from collector.sinks.elasticsearch import ElasticsearchSink
from collector.store.elastic import ElasticStore
from collector.store.naming import IndexNames

log = logging.getLogger("canhgac.collector")
LATENESS = timedelta(minutes=2)
IN_FLIGHT = 16
"""Batches whose events may still be being indexed while the next one is processed. Their events go out
merged (collector.event_writer), so a slow events bulk holds back commits, not the next batch's alerts;
the bound (at most 16 × kafka.max_batch events held) is the backpressure when Elasticsearch falls behind."""
STOP_TIMEOUT_S = 30.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, help="YAML configuration (default /etc/canhgac/collector.yaml)"
    )


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = load_settings(args.config)
    except ConfigError as error:
        log.error("%s", error)
        return 2
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    try:
        return asyncio.run(Collector(settings).run())
    except KeyringError as error:
        log.error("%s", error)
        return 2


@dataclass
class Detection:
    """The current rules; replaced as a whole on reload so a batch never sees half of a reload."""

    settings: CollectorSettings
    engine: DetectionEngine = field(init=False)
    correlations: CorrelationSet = field(init=False)

    def __post_init__(self) -> None:
        self.load()

    def load(self) -> None:
        paths = list(self.settings.detection.rules)
        engine = DetectionEngine.from_paths(paths, pipeline=self.settings.detection.pipeline)
        pipeline = self.settings.detection.pipeline
        resolver = PipelineFieldResolver.from_path(pipeline) if pipeline else IdentityFieldResolver()
        correlations, errors = compile_correlations(engine.correlation_rules, resolver)
        for error in [*engine.errors, *errors]:
            log.error("rule not loaded: %s", error)
        log.info("loaded %d rules and %d correlations", len(engine.rules), len(correlations))
        self.engine, self.correlations = engine, correlations

    def horizon(self) -> timedelta:
        longest = max((c.window_us for c in self.correlations.correlations), default=0)
        return timedelta(microseconds=longest) + LATENESS


def _done(awaitable: Awaitable[None]) -> bool:
    return isinstance(awaitable, asyncio.Future) and awaitable.done()


class ReplayCorrelationWindows(ConsumerRebalanceListener):  # type: ignore[misc]
    """On every assignment, rebuild the correlation windows by replaying ``now - timespan`` (or from the
    committed offset, if that is earlier) of the partitions this process now owns."""

    def __init__(self, collector: Collector) -> None:
        self._collector = collector

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self._collector.replay_correlations(list(assigned))


class Collector:
    def __init__(self, settings: CollectorSettings) -> None:
        self.settings = settings
        self.stopping = asyncio.Event()
        self.detection = Detection(settings)
        self.tracker = CorrelationTracker(self.detection.correlations, allowed_lateness=LATENESS)
        self.correlation_consumer: AIOKafkaConsumer | None = None
        self.correlation_stage: CorrelationPipeline | None = None
        self.metrics = CollectorMetrics(rules_loaded=self.rules_loaded)

    def rules_loaded(self) -> dict[str, int]:
        return {"rule": len(self.detection.engine.rules), "correlation": len(self.detection.correlations)}
        self.origin: OriginCheck | None = None

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.stopping.set)
        loop.add_signal_handler(signal.SIGINT, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        ks, es = self.settings.kafka, self.settings.elasticsearch
        client_id = f"canhgac-collector-{socket.gethostname()}-{os.getpid()}"
        client = elasticsearch_client(es)
        sink = ElasticsearchSink(client, es.index_prefix)
        stop_metrics = self.serve_metrics()
        store = ElasticStore(client, IndexNames(es.index_prefix))
        await self.until_ready("Elasticsearch", sink.start)
        await self.until_ready("Elasticsearch", store.setup)
        incidents = IncidentService(store, window=timedelta(seconds=self.settings.incidents.window_s))
        inventory = AgentInventory(store, incidents, silence_multiple=self.settings.api.silent_agent_factor)
        producer = kafka.producer(ks, client_id)
        await self.until_ready("Kafka", producer.start)
        events = kafka.consumer(ks, ks.group_id, client_id, ks.events_topic)
        self.correlation_consumer = kafka.consumer(ks, f"{ks.group_id}.correlation", client_id)
        self.correlation_consumer.subscribe([ks.correlation_topic], listener=ReplayCorrelationWindows(self))
        feed = KafkaCorrelationFeed(producer, ks.correlation_topic, lambda: self.detection.correlations)
        event_stage = EventPipeline(
            detector=lambda: self.detection.engine,
            sink=self.metrics.timed(sink),
            counters=self.metrics.counters("events"),
            dead_letters=DeadLetterPublisher(producer, ks.dead_letter_topic),
            correlations=feed,
            alert_observer=incidents,
            heartbeat_observer=inventory,
            index_events=es.index_events,
            origin_check=self.origin_check(client),
            stopping=self.stopping,
        )
        self.correlation_stage = CorrelationPipeline(
            tracker=lambda: self.tracker,
            sink=self.metrics.timed(sink),
            counters=self.metrics.counters("correlation"),
            alert_observer=incidents,
            nested=feed,
            stopping=self.stopping,
        )
        await self.until_ready("Kafka", events.start)
        await self.until_ready("Kafka", self.correlation_consumer.start)
        log.info("collector running: group %s, topic %s", ks.group_id, ks.events_topic)
        tasks = [
            asyncio.create_task(self.consume(events, event_stage.start)),
            asyncio.create_task(self.consume(self.correlation_consumer, self.correlation_stage.start)),
            asyncio.create_task(self.every(30, lambda: inventory.check_silent_agents())),
            asyncio.create_task(self.every(3600, lambda: self.expire(sink))),
            asyncio.create_task(self.every(30, lambda: self.report(event_stage, self.correlation_stage))),
            asyncio.create_task(self.every(5, lambda: self.watch_lag(events))),
        ]
        stop = asyncio.create_task(self.stopping.wait())
        done, _ = await asyncio.wait([stop, *tasks], return_when=asyncio.FIRST_COMPLETED)
        failed = [task for task in done if task is not stop and task.exception() is not None]
        for task in failed:
            # A stage that died must take the process down: systemd restarts it and Kafka replays.
            log.error("a collector task failed", exc_info=task.exception())
        log.info("stopping: finishing the current batches")
        self.stopping.set()
        # The consumers see the flag at their next poll, finish and commit what they hold; then the rest.
        await asyncio.wait(tasks[:2], timeout=STOP_TIMEOUT_S)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.report(event_stage, self.correlation_stage)
        for closing in (events.stop, self.correlation_consumer.stop, producer.stop, client.close):
            with contextlib.suppress(Exception):
                await closing()
        if stop_metrics is not None:
            stop_metrics()
        return 1 if failed else 0

    def serve_metrics(self) -> Callable[[], None] | None:
        where = self.settings.metrics
        return self.metrics.serve(where.host, where.port) if where.port else None

    async def watch_lag(self, events: AIOKafkaConsumer) -> None:
        await self.metrics.watch_lag(events)
        if self.correlation_consumer is not None:
            await self.metrics.watch_lag(self.correlation_consumer)

    def origin_check(self, client: Any) -> OriginCheck:
        """The origin step (collector.origin); kept for SIGHUP, which reloads its keyring."""
        settings, prefix = self.settings.origin, self.settings.elasticsearch.index_prefix
        history = ElasticsearchSequenceHistory(client, prefix)
        tracker = SequenceTracker(history) if settings.check_sequences else None
        self.origin = OriginCheck(settings.effective_mode, settings.keyring, tracker)
        return self.origin

    async def report(self, *stages: EventPipeline | CorrelationPipeline | None) -> None:
        for stage in stages:
            if stage is not None:
                log.info("%s: %s", type(stage).__name__, stage.counters)
        if (origin := self.origin) is not None:
            reloads = origin.tracker.reloads if origin.tracker is not None else 0
            log.info(
                "origin: mode %s, flagged %d, sequence findings %d, agents loaded from the index %d",
                origin.mode,
                origin.flagged,
                origin.sequence_findings,
                reloads,
            )

    async def until_ready(self, what: str, start: Callable[[], Awaitable[Any]]) -> None:
        delay = 0.5
        while True:
            try:
                await start()
                return
            except (KafkaError, SinkUnavailable, OSError, ConnectionError) as error:
                log.warning("%s not ready (%s); retrying in %.1fs", what, error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 15.0)

    async def consume(
        self, consumer: AIOKafkaConsumer, start: Callable[[list[Message]], Awaitable[Awaitable[None]]]
    ) -> None:
        """Poll, hand each batch to its stage, commit each batch's offsets once the stage says it is done.

        A stage may finish a batch's last step (indexing events) while the next batch is processed; at
        most ``IN_FLIGHT`` batches are open, and offsets are committed in batch order, so a commit never
        covers a batch that is not fully written."""
        open_batches: deque[tuple[dict[TopicPartition, int], Awaitable[None]]] = deque()
        while not self.stopping.is_set():
            batches = await consumer.getmany(timeout_ms=self.settings.kafka.poll_timeout_ms)
            if batches:
                messages = [
                    Message(tp.topic, tp.partition, record.offset, record.key, record.value, record.headers)
                    for tp, records in batches.items()
                    for record in records
                ]
                # Shielded: a stop request lets the batch's steps finish, so nothing is half written.
                finishing = await asyncio.shield(start(messages))
                offsets = {tp: records[-1].offset + 1 for tp, records in batches.items()}
                open_batches.append((offsets, finishing))
            while open_batches and (_done(open_batches[0][1]) or len(open_batches) > IN_FLIGHT):
                await self.commit(consumer, *open_batches.popleft())
        while open_batches:
            await self.commit(consumer, *open_batches.popleft())

    async def commit(
        self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int], finishing: Awaitable[None]
    ) -> None:
        await finishing
        try:
            await consumer.commit(offsets)
            self.metrics.committed(tp.topic for tp in offsets)
        except (CommitFailedError, KafkaError) as error:
            # The group rebalanced under us: the new owner replays the batch; writes are idempotent.
            log.warning("offset commit refused (%s); the batch will be replayed", error)

    async def replay_correlations(self, assigned: list[TopicPartition]) -> None:
        consumer = self.correlation_consumer
        assert consumer is not None
        assert self.correlation_stage is not None
        self.tracker = CorrelationTracker(self.detection.correlations, allowed_lateness=LATENESS)
        self.correlation_stage.reset()
        if not assigned:
            return
        since = datetime.now(UTC) - self.detection.horizon()
        by_time = await consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in assigned})
        ends = await consumer.end_offsets(assigned)
        for tp in assigned:
            committed = await consumer.committed(tp)
            found = by_time.get(tp)
            replay_from = found.offset if found is not None else ends[tp]
            start = min(replay_from, committed) if committed is not None else replay_from
            consumer.seek(tp, start)
        log.info("correlation windows: replaying %d partitions from %s", len(assigned), since.isoformat())

    async def reload(self) -> None:
        if self.origin is not None:
            try:
                self.origin.reload()
            except KeyringError as error:  # a broken keyring keeps the one that works
                log.error("keyring reload failed; keeping the previous keyring: %s", error)
        log.info("reloading rules")
        try:
            await asyncio.to_thread(self.detection.load)
        except Exception:  # a broken reload keeps the rules that work
            log.exception("rule reload failed; keeping the previous rules")
            return
        if self.correlation_consumer is not None:
            # New correlation rules need windows of their own: rebuild them all from the topic.
            await self.replay_correlations(list(self.correlation_consumer.assignment()))

    async def every(self, seconds: float, job: Callable[[], Awaitable[Any]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception:  # a periodic job must not stop the collector
                log.exception("periodic job failed")

    async def expire(self, sink: ElasticsearchSink) -> None:
        now = datetime.now(UTC)
        for family, days in self.settings.elasticsearch.retention_days.items():
            await sink.delete_expired(family, timedelta(days=days), now)
