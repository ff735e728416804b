"""Repartitioning base-rule matches by correlation group through an internal Kafka topic.

Events are keyed by host, but a correlation's group (a source IP, a user) spans hosts and so spans the
collectors that share the events topic. Each base match that feeds a correlation is re-published keyed
by (correlation, group): every input of one group then reaches the one process that owns its partition.
The record's timestamp is the event's time, so a restarted owner can replay from ``now - timespan``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from collector.alerts import event_time
from collector.detection import RuleMatch
from collector.detection.correlation import CorrelationInput, CorrelationSet, record_routing_key, to_input
from collector.pipeline import encode_correlation_message
from collector.sinks import SinkUnavailable


class KafkaCorrelationFeed:
    """See :class:`collector.pipeline.CorrelationFeed`: ``publish`` returns once Kafka acknowledged."""

    def __init__(
        self, producer: AIOKafkaProducer, topic: str, correlations: Callable[[], CorrelationSet]
    ) -> None:
        self._producer = producer
        self._topic = topic
        self._correlations = correlations
        self.published = 0

    async def publish(self, matches: Sequence[RuleMatch]) -> None:
        correlations = self._correlations()
        if not len(correlations):
            return
        records: list[tuple[CorrelationInput, Mapping[str, Any]]] = []
        for match in matches:
            # A correlation names its base rules by id or by name; a rule without a UUID has only a name.
            identifiers = [match.rule.id] + ([match.rule.name] if match.rule.name else [])
            when = event_time(match.event)
            for identifier in identifiers:
                for correlation in correlations.feeding(identifier):
                    record = to_input(correlation, identifier, match.event, when)
                    if record is not None:
                        records.append((record, match.event))
        await self.publish_inputs(records)

    async def publish_inputs(self, records: Sequence[tuple[CorrelationInput, Mapping[str, Any]]]) -> None:
        """Publish correlation inputs (with the event context they came from); returns once acknowledged.
        Raises :class:`SinkUnavailable` when Kafka cannot take them; a retry may publish some twice, which
        the correlation stage counts once."""
        try:
            await self._send_all(records)
        except KafkaError as error:
            raise SinkUnavailable(f"correlation topic unavailable: {error!r}") from error

    async def _send_all(self, records: Sequence[tuple[CorrelationInput, Mapping[str, Any]]]) -> None:
        pending = [
            await self._producer.send(
                self._topic,
                value=encode_correlation_message(record, context),
                key=record_routing_key(record),
                timestamp_ms=record.timestamp_us // 1000,
            )
            for record, context in records
        ]
        if pending:
            await asyncio.gather(*pending)
            self.published += len(pending)
