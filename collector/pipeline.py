"""The order of work, in one place.

Events stage, per consumed batch:
    decode (bad → dead letters) → check origin and sequences (collector.origin) → detect
    → write events and alerts → feed correlations
    → update incidents and the agent inventory → commit offsets.
Correlation stage, per batch of the internal repartition topic:
    decode → correlate → write correlation alerts → update incidents → commit offsets.

A step runs only when every earlier step of the batch is durable, and offsets are committed last, so a
crash anywhere replays the batch; every write is idempotent (deterministic ids, ``op_type=create``), so a
replay changes nothing that was already done.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import orjson

from collector import decoding
from collector.alerts import alert_for_correlation, alert_for_match, event_time
from collector.dead_letter import DeadLetter
from collector.detection import RuleMatch
from collector.detection.correlation import (
    CorrelationInput,
    CorrelationInputError,
    CorrelationTracker,
    inputs_from_match,
)
from collector.event_writer import EventWriter
from collector.origin import OriginCheck
from collector.sinks import Document, DocumentSink, SinkUnavailable, WriteReport
from collector.store.errors import StoreUnavailable
from event_contract import DecodeError

log = logging.getLogger(__name__)
T = TypeVar("T")

CONTEXT_GROUPS = ("host", "agent", "organization")
Origin = tuple[str, int, int, bytes | None, bytes]
"""Where a document came from (topic, partition, offset, key, value): what its dead letter carries."""


@dataclass(frozen=True, slots=True)
class Message:
    """One consumed Kafka record, reduced to what the pipeline needs."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Sequence[tuple[str, bytes | None]] = ()


class Detector(Protocol):
    def match(self, event: Mapping[str, Any]) -> list[RuleMatch]: ...


class DeadLetters(Protocol):
    async def publish(self, letters: Sequence[DeadLetter]) -> None: ...


class CorrelationFeed(Protocol):
    """Publishes base-rule matches to the repartition topic; returns once Kafka acknowledged them."""

    async def publish(self, matches: Sequence[RuleMatch]) -> None: ...


class CorrelationInputs(Protocol):
    """Publishes correlation inputs (for correlations built on correlations); returns once acknowledged."""

    async def publish_inputs(self, records: Sequence[tuple[CorrelationInput, Mapping[str, Any]]]) -> None: ...


class AlertObserver(Protocol):
    """The incidents service: told of alerts once they are durable; names an alert's incident beforehand."""

    def incident_id_for(self, alert: Mapping[str, Any]) -> str | None: ...

    async def on_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> None: ...


class HeartbeatObserver(Protocol):
    async def on_heartbeats(self, events: Sequence[Mapping[str, Any]]) -> None: ...


@dataclass(slots=True)
class Counters:
    """What the stages did, for logs and metrics. ``seconds`` accumulates wall time per step."""

    consumed: int = 0
    dead_lettered: int = 0
    events_indexed: int = 0
    alerts_created: int = 0
    alerts_replayed: int = 0
    write_retries: int = 0
    correlation_inputs: int = 0
    correlation_duplicates: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def timing(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[step] = self.seconds.get(step, 0.0) + time.perf_counter() - started


TRANSIENT = (SinkUnavailable, StoreUnavailable)


async def retry_until_written(
    write: Callable[[], Awaitable[T]], counters: Counters, stopping: asyncio.Event
) -> T:
    """Back off and retry while a store is unavailable; the batch is not committed meanwhile.

    Retrying a whole step is safe because every step is idempotent."""
    delay = 0.5
    while True:
        try:
            return await write()
        except TRANSIENT as error:
            if stopping.is_set():
                raise
            counters.write_retries += 1
            log.warning("store unavailable, retrying in %.1fs: %s", delay, error)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)


@dataclass
class EventPipeline:
    """The events stage. ``process`` handles one batch and returns when its offsets may be committed."""

    detector: Callable[[], Detector]
    sink: DocumentSink
    dead_letters: DeadLetters
    correlations: CorrelationFeed | None
    alert_observer: AlertObserver | None
    heartbeat_observer: HeartbeatObserver | None
    index_events: bool = True
    origin_check: OriginCheck | None = None
    counters: Counters = field(default_factory=Counters)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # Events of batches waiting to be indexed go out together, in batch order (see collector.event_writer).
    event_writer: EventWriter[Origin] = field(init=False)

    def __post_init__(self) -> None:
        self.event_writer = EventWriter(self.index_events_of)

    async def process(self, batch: Sequence[Message]) -> None:
        """One batch from start to finish: when this returns, its offsets may be committed."""
        await (await self.start(batch))

    async def start(self, batch: Sequence[Message]) -> Awaitable[None]:
        """Every step of the batch except indexing its events, which goes on in the returned awaitable
        while the caller starts the next batch; the batch's offsets may be committed once it completes.
        Alerts do not wait behind the many events: they are searchable, and their incidents updated,
        before this returns."""
        self.counters.consumed += len(batch)
        with self.counters.timing("decode"):
            events, letters = self.decode(batch)
        integrity = await self.check_origin(batch, events)
        with self.counters.timing("detect"):
            matches = self.detect(events)
            documents, origin = self.documents_for(events, matches)
        for alert, message in integrity:
            self.name_incident(alert)
            documents.append(alert)
            origin[alert.id] = _where(message)
        alerts = [doc for doc in documents if doc.family == "alerts"]
        with self.counters.timing("write_alerts"):
            report = await self.write(alerts)
        letters += self.rejected(report, origin)
        if letters:
            await retry_until_written(
                functools.partial(self.dead_letters.publish, letters), self.counters, self.stopping
            )
            self.counters.dead_lettered += len(letters)
        self.counters.alerts_created += report.created
        self.counters.alerts_replayed += report.already_present
        if (feed := self.correlations) is not None and matches:
            with self.counters.timing("correlation_feed"):
                await retry_until_written(
                    functools.partial(feed.publish, matches), self.counters, self.stopping
                )
        written = [doc.body for doc in alerts if doc.id not in report.rejected]
        if written and (observer := self.alert_observer) is not None:
            with self.counters.timing("incidents"):
                await retry_until_written(lambda: observer.on_alerts(written), self.counters, self.stopping)
        heartbeats = [
            event for event, _ in events if _dataset(event) == "canhgac.heartbeat" and _trusted(event)
        ]
        if heartbeats and (inventory := self.heartbeat_observer) is not None:
            with self.counters.timing("inventory"):
                await retry_until_written(
                    lambda: inventory.on_heartbeats(heartbeats), self.counters, self.stopping
                )
        rest = [doc for doc in documents if doc.family != "alerts"]
        return self.event_writer.submit(rest, origin)

    async def index_events_of(self, documents: Sequence[Document], origin: dict[str, Origin]) -> None:
        if not documents:
            return
        started = time.perf_counter()
        report = await self.write(documents)
        letters = self.rejected(report, origin)
        if letters:
            await retry_until_written(
                functools.partial(self.dead_letters.publish, letters), self.counters, self.stopping
            )
            self.counters.dead_lettered += len(letters)
        self.counters.events_indexed += report.created + report.already_present
        self.counters.seconds["write_events"] = (
            self.counters.seconds.get("write_events", 0.0) + time.perf_counter() - started
        )

    async def write(self, documents: Sequence[Document]) -> WriteReport:
        if not documents:
            return WriteReport()
        return await retry_until_written(
            functools.partial(self.sink.write, documents), self.counters, self.stopping
        )

    @staticmethod
    def rejected(report: WriteReport, origin: dict[str, Origin]) -> list[DeadLetter]:
        return [
            DeadLetter(*origin[doc_id], reason=f"not indexable: {reason}")
            for doc_id, reason in report.rejected.items()
        ]

    def decode(
        self, batch: Sequence[Message]
    ) -> tuple[list[tuple[dict[str, Any], Message]], list[DeadLetter]]:
        events: list[tuple[dict[str, Any], Message]] = []
        letters: list[DeadLetter] = []
        for message in batch:
            try:
                document = decoding.decode(message.value)
            except DecodeError as error:
                letters.append(DeadLetter(*_where(message), reason=error.reason))
                continue
            events.append((document, message))
        return events, letters

    async def check_origin(
        self, batch: Sequence[Message], events: Sequence[tuple[dict[str, Any], Message]]
    ) -> list[tuple[Document, Message]]:
        """Mark each event's verified origin and check sequences (:mod:`collector.origin`); its alerts."""
        if (check := self.origin_check) is None:
            return []
        with self.counters.timing("origin"):
            now = datetime.now(UTC)
            found = await retry_until_written(
                functools.partial(check.check, batch, events, now), self.counters, self.stopping
            )
        return found

    def detect(self, events: Sequence[tuple[dict[str, Any], Message]]) -> list[RuleMatch]:
        detector = self.detector()  # read once per batch: a rule reload swaps it between batches
        return [match for event, _ in events for match in detector.match(event)]

    def documents_for(
        self, events: Sequence[tuple[dict[str, Any], Message]], matches: Sequence[RuleMatch]
    ) -> tuple[list[Document], dict[str, Origin]]:
        now = datetime.now(UTC)
        documents: list[Document] = []
        origin: dict[str, Origin] = {}
        by_event_id = {event["event"]["id"]: message for event, message in events}
        if self.index_events:
            for event, message in events:
                body = {**event, "event": {**event["event"], "ingested": now.isoformat()}}
                documents.append(Document("events", event["event"]["id"], event_time(event), body))
                origin[event["event"]["id"]] = _where(message)
        for match in matches:
            if not match.rule.generates_alerts:
                continue
            alert = alert_for_match(match, now)
            self.name_incident(alert)
            documents.append(alert)
            origin[alert.id] = _where(by_event_id[match.event["event"]["id"]])
        return documents, origin

    def name_incident(self, alert: Document) -> None:
        if self.alert_observer is not None:
            alert.body["canhgac"]["alert"]["incident_id"] = self.alert_observer.incident_id_for(alert.body)


@dataclass
class CorrelationPipeline:
    """The correlation stage, fed by the repartition topic (all inputs of one group reach one process)."""

    tracker: Callable[[], CorrelationTracker]
    sink: DocumentSink
    alert_observer: AlertObserver | None
    nested: CorrelationInputs | None = None
    counters: Counters = field(default_factory=Counters)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _seen: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget windows and seen inputs; the caller then replays the topic from ``now - timespan``."""
        self._seen.clear()

    async def start(self, batch: Sequence[Message]) -> Awaitable[None]:
        """Same interface as :meth:`EventPipeline.start`; this stage finishes its batch before returning."""
        await self.process(batch)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def process(self, batch: Sequence[Message]) -> None:
        tracker = self.tracker()
        now = datetime.now(UTC)
        documents: list[Document] = []
        nested: list[tuple[CorrelationInput, Mapping[str, Any]]] = []
        for message in batch:
            try:
                record, context = decode_correlation_message(message.value)
            except CorrelationInputError as error:
                log.error("dropping a malformed correlation input at %s: %s", _where(message)[:3], error)
                continue
            if self._already_seen(record):
                self.counters.correlation_duplicates += 1
                continue
            self.counters.correlation_inputs += 1
            for match in tracker.observe_input(record):
                if match.correlation.generates_alerts:
                    alert = alert_for_correlation(match, context, now)
                    if self.alert_observer is not None:
                        incident = self.alert_observer.incident_id_for(alert.body)
                        alert.body["canhgac"]["alert"]["incident_id"] = incident
                    documents.append(alert)
                nested += [(outer, context) for outer in inputs_from_match(tracker.correlations, match)]
        if documents:
            report = await retry_until_written(
                lambda: self.sink.write(documents), self.counters, self.stopping
            )
            self.counters.alerts_created += report.created
            self.counters.alerts_replayed += report.already_present
        if nested and self.nested is not None:
            await retry_until_written(
                functools.partial(self.nested.publish_inputs, nested), self.counters, self.stopping
            )
        alerts = [doc.body for doc in documents if not report.rejected.get(doc.id)] if documents else []
        if alerts and (observer := self.alert_observer) is not None:
            await retry_until_written(lambda: observer.on_alerts(alerts), self.counters, self.stopping)

    def _already_seen(self, record: CorrelationInput) -> bool:
        # A batch replayed after a crash re-publishes its inputs: count each event once per correlation.
        key = (record.correlation_id, record.base_rule_id, record.event_id)
        if key in self._seen:
            return True
        self._seen[key] = record.timestamp_us
        if len(self._seen) > 200_000:
            horizon = sorted(self._seen.values())[len(self._seen) // 2]
            self._seen = {k: ts for k, ts in self._seen.items() if ts >= horizon}
        return False


def encode_correlation_message(record: CorrelationInput, event: Mapping[str, Any]) -> bytes:
    context = {group: event[group] for group in CONTEXT_GROUPS if group in event}
    system = (event.get("canhgac") or {}).get("system")
    if system:
        context["canhgac"] = {"system": system}
    return orjson.dumps({"input": record.to_dict(), "context": context})


def decode_correlation_message(value: bytes) -> tuple[CorrelationInput, dict[str, Any]]:
    try:
        document = orjson.loads(value)
    except orjson.JSONDecodeError as error:
        raise CorrelationInputError(f"not JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("context"), dict):
        raise CorrelationInputError("expected an object with 'input' and 'context'")
    return CorrelationInput.from_dict(document.get("input")), document["context"]


def _dataset(event: Mapping[str, Any]) -> str | None:
    meta = event.get("event")
    return meta.get("dataset") if isinstance(meta, Mapping) else None


def _trusted(event: Mapping[str, Any]) -> bool:
    """Unchecked (no keyring) or verified: a forged heartbeat must not make an agent look alive."""
    origin = (event.get("canhgac") or {}).get("origin")
    return not isinstance(origin, Mapping) or origin.get("status") == "verified"


def _where(message: Message) -> Origin:
    return (message.topic, message.partition, message.offset, message.key, message.value)
