"""The correlation input record: what the pipeline sends through the internal repartition topic.

A base-rule match becomes one record per correlation it feeds. The record holds only what the window state
machine needs (no event body), so the topic stays small and a replay rebuilds state from it alone. The
Kafka key of the record is :func:`routing_key`: one (correlation, group) always lands on one partition,
so its records keep their order and one process owns its state.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from collector.detection.correlation.compiled import CompiledCorrelation, CorrelationKind, CorrelationSet
from collector.detection.correlation.fields import group_value, read_field
from collector.detection.correlation.match import CorrelationMatch

RECORD_VERSION = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)


class CorrelationInputError(ValueError):
    """A record that cannot be decoded; ``reason`` is short and safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CorrelationInput:
    """One base-rule match as one correlation sees it.

    ``group`` holds the group-by values in the correlation's ``group_by`` order; ``value`` is the
    aggregated field's value (text for value_count, a number for value_sum / avg / percentile), else None.
    """

    correlation_id: str
    base_rule_id: str
    group: tuple[str, ...]
    timestamp_us: int
    event_id: str
    value: str | float | None = None

    @property
    def timestamp(self) -> datetime:
        return micros_to_datetime(self.timestamp_us)

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": RECORD_VERSION,
            "correlation": self.correlation_id,
            "rule": self.base_rule_id,
            "group": list(self.group),
            "@timestamp": self.timestamp.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "event_id": self.event_id,
            "value": self.value,
        }

    @classmethod
    def from_dict(cls, document: Any) -> CorrelationInput:
        if not isinstance(document, dict):
            raise CorrelationInputError(f"expected a JSON object, got {type(document).__name__}")
        if document.get("v") != RECORD_VERSION:
            raise CorrelationInputError(f"record version {document.get('v')!r}; expected {RECORD_VERSION}")
        texts = {name: document.get(name) for name in ("correlation", "rule", "event_id", "@timestamp")}
        for name, text in texts.items():
            if not isinstance(text, str) or not text:
                raise CorrelationInputError(f"{name} must be a non-empty string")
        group = document.get("group")
        if not isinstance(group, list) or not all(isinstance(item, str) for item in group):
            raise CorrelationInputError("group must be a list of strings")
        value = document.get("value")
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int | float)):
            raise CorrelationInputError("value must be a string, a number or null")
        try:
            moment = datetime.fromisoformat(str(texts["@timestamp"]))
        except ValueError:
            raise CorrelationInputError(f"@timestamp {texts['@timestamp']!r} is not ISO 8601") from None
        return cls(
            correlation_id=str(texts["correlation"]),
            base_rule_id=str(texts["rule"]),
            group=tuple(group),
            timestamp_us=datetime_to_micros(moment),
            event_id=str(texts["event_id"]),
            value=float(value) if isinstance(value, int) else value,
        )


def encode_input(record: CorrelationInput) -> bytes:
    return orjson.dumps(record.to_dict())


def decode_input(data: bytes) -> CorrelationInput:
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise CorrelationInputError(f"not JSON: {error}") from None
    return CorrelationInput.from_dict(document)


def to_input(
    correlation: CompiledCorrelation, base_rule_id: str, event: Mapping[str, Any], timestamp: datetime
) -> CorrelationInput | None:
    """The record for one base-rule match, or ``None`` when the event cannot take part in the correlation:
    ``base_rule_id`` does not feed it, a group-by field is missing, or the aggregated field is missing (or
    not a number, for value_sum / avg / percentile).
    """
    feed = correlation.feed(base_rule_id)
    if feed is None or feed.from_correlation:
        return None
    group: list[str] = []
    for paths in feed.group_paths:
        text = group_value(read_field(event, paths))
        if text is None:
            return None
        group.append(text)
    value: str | float | None = None
    if feed.value_paths is not None:
        raw = read_field(event, feed.value_paths)
        value = group_value(raw) if correlation.kind is CorrelationKind.VALUE_COUNT else _number(raw)
        if value is None:
            return None
    return CorrelationInput(
        correlation_id=correlation.id,
        base_rule_id=feed.key,
        group=tuple(group),
        timestamp_us=datetime_to_micros(timestamp),
        event_id=event_id(event),
        value=value,
    )


def match_input(correlation: CompiledCorrelation, match: CorrelationMatch) -> CorrelationInput | None:
    """The record by which an inner correlation's match feeds ``correlation`` (Sigma correlations of
    correlations): the inner match's group values, at its window end, named by its deterministic id."""
    feed = correlation.feed(match.correlation.id)
    if feed is None or not feed.from_correlation:
        return None
    group = [match.group.get(paths[0]) for paths in feed.group_paths]
    if any(value is None for value in group):
        return None
    return CorrelationInput(
        correlation_id=correlation.id,
        base_rule_id=feed.key,
        group=tuple(str(value) for value in group),
        timestamp_us=datetime_to_micros(match.window_end),
        event_id=match.id,
    )


def inputs_from_match(correlations: CorrelationSet, match: CorrelationMatch) -> list[CorrelationInput]:
    """The records a correlation match feeds to the correlations built on it (often none). Across
    processes, publish them to the repartition topic keyed by :func:`record_routing_key`, like base inputs."""
    records = (match_input(outer, match) for outer in correlations.feeding(match.correlation.id))
    return [record for record in records if record is not None]


def routing_key(
    correlation: CompiledCorrelation, event: Mapping[str, Any], base_rule_id: str
) -> bytes | None:
    """Kafka key for a base match's record (``None``: the event does not take part). ``base_rule_id`` is
    needed because ``aliases`` let each base rule keep the group-by value in a different field."""
    record = to_input(correlation, base_rule_id, event, _EPOCH)
    return None if record is None else record_routing_key(record)


def record_routing_key(record: CorrelationInput) -> bytes:
    """The same key as :func:`routing_key`, computed from a record already built."""
    return orjson.dumps([record.correlation_id, list(record.group)])


def event_id(event: Mapping[str, Any]) -> str:
    """``event.id``; for an event without one, a digest of its content, so a replay names it the same."""
    meta = event.get("event")
    if isinstance(meta, Mapping) and isinstance(meta.get("id"), str) and meta["id"]:
        return str(meta["id"])
    body = orjson.dumps(event, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    return "sha256:" + hashlib.sha256(body).hexdigest()[:32]


def datetime_to_micros(moment: datetime) -> int:
    """Exact integer microseconds since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _ONE_MICROSECOND


def micros_to_datetime(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float | str):
        try:
            number = float(raw)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None
