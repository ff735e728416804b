"""One group's sliding window and the aggregate each correlation type computes over it.

Entries are kept sorted by event time, so events that arrive slightly out of order still land in their
place. The window is the closed interval ``[newest - timespan, newest]``: events whose times differ by at
most the timespan count together.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

from collector.detection.correlation.compiled import CompiledCorrelation, CorrelationKind
from collector.detection.correlation.conditions import RuleExpression, Threshold


@dataclass(frozen=True, slots=True)
class Entry:
    timestamp_us: int
    base_rule_id: str
    event_id: str
    value: str | float | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """A window that satisfies its correlation: the aggregate and the entries that produced it."""

    aggregate: float
    contributing: Sequence[Entry]


class GroupWindow:
    """The entries of one (correlation, group) within the timespan, and which episode last fired.

    ``last_fired_slot`` is the timespan-aligned slot of the last match's window start (see
    :mod:`collector.detection.correlation.tracker`); ``None`` before any match. An input seen twice
    (same base rule and event id: Kafka delivers at least once) counts once while it is in the window.
    """

    __slots__ = ("_present", "entries", "last_fired_slot", "newest_us")

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.newest_us = -(2**63)
        self.last_fired_slot: int | None = None
        self._present: set[tuple[str, str]] = set()

    def holds(self, entry: Entry) -> bool:
        return (entry.base_rule_id, entry.event_id) in self._present

    def add(self, entry: Entry, window_us: int, max_entries: int) -> int:
        """Insert ``entry`` and drop what fell out of the window; returns how many entries the cap dropped."""
        bisect.insort_right(self.entries, entry, key=_time)
        self._present.add((entry.base_rule_id, entry.event_id))
        self.newest_us = max(self.newest_us, entry.timestamp_us)
        cutoff = bisect.bisect_left(self.entries, self.newest_us - window_us, key=_time)
        overflow = max(0, len(self.entries) - cutoff - max_entries)
        if cutoff or overflow:
            for dropped in self.entries[: cutoff + overflow]:
                self._present.discard((dropped.base_rule_id, dropped.event_id))
            del self.entries[: cutoff + overflow]
        return overflow


def _time(entry: Entry) -> int:
    return entry.timestamp_us


def evaluate(correlation: CompiledCorrelation, entries: Sequence[Entry]) -> Outcome | None:
    """The outcome when the window satisfies the correlation's condition, else ``None``."""
    if not entries:
        return None
    kind = correlation.kind
    condition = correlation.condition
    if kind is CorrelationKind.TEMPORAL_ORDERED:
        contributing = _ordered_prefix(correlation.sequence, entries)
        aggregate = float(len(contributing))
        if isinstance(condition, Threshold) and condition.holds(aggregate):
            return Outcome(aggregate, contributing)
        return None
    if kind is CorrelationKind.TEMPORAL:
        present = {entry.base_rule_id for entry in entries}
        if isinstance(condition, RuleExpression):
            references = {feed.reference for feed in correlation.feeds if feed.key in present}
            satisfied = condition.holds(references)
        else:
            satisfied = condition.holds(float(len(present)))
        return Outcome(float(len(present)), entries) if satisfied else None
    value = _aggregate(correlation, entries)
    if value is not None and isinstance(condition, Threshold) and condition.holds(value):
        return Outcome(value, entries)
    return None


def _aggregate(correlation: CompiledCorrelation, entries: Sequence[Entry]) -> float | None:
    kind = correlation.kind
    if kind is CorrelationKind.EVENT_COUNT:
        return float(len(entries))
    if kind is CorrelationKind.VALUE_COUNT:
        return float(len({entry.value for entry in entries}))
    numbers = [entry.value for entry in entries if isinstance(entry.value, float)]
    if not numbers:
        return None
    if kind is CorrelationKind.VALUE_SUM:
        return math.fsum(numbers)
    if kind is CorrelationKind.VALUE_AVG:
        return math.fsum(numbers) / len(numbers)
    # value_percentile / value_median: nearest-rank, so the result is always an observed value.
    numbers.sort()
    rank = math.ceil((correlation.percentile or 50) / 100 * len(numbers))
    return numbers[max(rank, 1) - 1]


def _ordered_prefix(sequence: Sequence[str], entries: Sequence[Entry]) -> list[Entry]:
    """The longest prefix of ``sequence`` found in order in ``entries``; greedy earliest matching finds a
    full match whenever one exists."""
    found: list[Entry] = []
    for entry in entries:
        if len(found) == len(sequence):
            break
        if entry.base_rule_id == sequence[len(found)]:
            found.append(entry)
    return found
