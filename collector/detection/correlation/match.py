"""What a correlation reports when it fires, and the deterministic id that makes a report idempotent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from collector.detection.correlation.compiled import CompiledCorrelation

MATCH_ID_NAMESPACE = uuid.UUID("6f0e4a52-3c1d-5b8e-9a47-0c2d7e61b3f9")
"""Fixed forever: changing it changes every correlation alert id and defeats de-duplication."""


def match_id(correlation_id: str, group: tuple[str, ...], episode_start_us: int) -> str:
    """UUIDv5 of (correlation rule id, group values, episode start in µs since the epoch).

    Every process and every replay that sees the same episode computes the same id, so the alert sink's
    ``op_type=create`` with this ``_id`` turns duplicates into no-ops.
    """
    name = orjson.dumps([correlation_id, list(group), episode_start_us]).decode()
    return str(uuid.uuid5(MATCH_ID_NAMESPACE, name))


@dataclass(frozen=True, slots=True)
class CorrelationMatch:
    """A correlation's condition became true for one group.

    ``episode_start`` is the timespan-aligned slot that de-duplicates (see the tracker); ``window_start``
    and ``window_end`` are the times of the first contributing and the newest event; ``value`` is the
    aggregate that satisfied the condition (count, distinct count, sum, average, percentile, or number of
    rules seen). ``event_ids`` is capped; ``event_count`` is the full number of contributing events.
    """

    id: str
    correlation: CompiledCorrelation
    group: dict[str, str]
    episode_start: datetime
    window_start: datetime
    window_end: datetime
    value: float
    event_count: int
    event_ids: tuple[str, ...]
    base_rule_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary for the alert document (the sink adds ECS and rule metadata)."""
        return {
            "id": self.id,
            "correlation_id": self.correlation.id,
            "type": str(self.correlation.kind),
            "group": dict(self.group),
            "episode_start": self.episode_start.isoformat(),
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "value": self.value,
            "event_count": self.event_count,
            "event_ids": list(self.event_ids),
            "base_rule_ids": list(self.base_rule_ids),
        }
