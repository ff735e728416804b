"""The correlation state machine: base-rule matches in, correlation matches out.

Semantics (all times are event times, never the wall clock):

* **Window.** Per (correlation, group) the window is ``[newest - timespan, newest]``, newest being the
  latest event time seen for the group. The condition is evaluated after every input.
* **Episodes.** Window starts are bucketed into slots aligned to the timespan (``slot = start //
  timespan``). A group fires at most once per slot and never for a slot older than its last match: the 6th
  and 7th failed login of a burst do not fire again; sustained activity fires once per timespan; activity
  after a quiet spell fires again. The match id derives from (correlation id, group, slot start), so a
  replay, or a second process, gives the same id for the same episode.
* **Lateness.** Events may arrive out of order (per host they are ordered; across hosts not). An input
  is still used when its time is within the group's window and no more than ``allowed_lateness`` plus one
  timespan behind the correlation's watermark (the newest event time seen for it); older inputs are
  dropped and counted in ``stats.late``.
* **Duplicates.** An input whose (base rule, event id) is already in the group's window is ignored, so
  Kafka's at-least-once redelivery does not inflate counts.
* **Memory.** A group is forgotten once its newest event is more than one timespan plus
  ``allowed_lateness`` behind the watermark (no input within the lateness bound can still reach it).
  At most ``max_groups`` groups per correlation are kept (the least recently updated is evicted and
  counted) and at most ``max_entries`` entries per group (the oldest are dropped and counted).

Correlations of correlations: an inner match enters the outer correlation as one input, at the inner
window's end, with the inner group values (:func:`~collector.detection.correlation.record.match_input`).
Across processes the pipeline publishes them (:func:`~collector.detection.correlation.record.
inputs_from_match`) to the repartition topic like any other input; :meth:`CorrelationTracker.observe`
does it in place.

Replay: feeding the same inputs in the same order (one partition of the repartition topic keeps the order
of each group) gives the same matches and ids. A replay that starts part-way gives the same id for every
episode it re-detects; it can only differ for an episode whose window began before the replay's start.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from collector.detection.correlation.compiled import CompiledCorrelation, CorrelationSet
from collector.detection.correlation.match import CorrelationMatch, match_id
from collector.detection.correlation.record import (
    CorrelationInput,
    inputs_from_match,
    micros_to_datetime,
    to_input,
)
from collector.detection.correlation.window import Entry, GroupWindow, Outcome, evaluate


class CorrelationObserver(Protocol):
    """The correlation stage's view of a state machine (:class:`CorrelationTracker` is the one).

    Lifecycle: built from a :class:`CorrelationSet`, fed the inputs of the groups it owns in partition
    order; after a restart or rebalance, a fresh one is fed a replay of the repartition topic. Guarantees:
    the same inputs in the same order give the same matches with the same ids; a well-formed input never
    raises; memory stays within the configured caps.
    """

    def observe_input(self, record: CorrelationInput) -> list[CorrelationMatch]: ...


@dataclass(slots=True)
class TrackerStats:
    """Counters since start: inputs observed, inputs dropped as too late, as duplicates (same base rule and
    event id already in the window: Kafka delivers at least once) or for an unknown correlation,
    groups expired by event time, groups evicted by the cap, entries dropped by the per-group cap, matches."""

    observed: int = 0
    late: int = 0
    duplicates: int = 0
    unknown_correlation: int = 0
    groups_expired: int = 0
    groups_evicted: int = 0
    entries_dropped: int = 0
    matches: int = 0


class CorrelationTracker:
    """Holds correlation windows in memory; not thread-safe (one tracker per consumer task)."""

    def __init__(
        self,
        correlations: CorrelationSet,
        *,
        max_groups: int = 10_000,
        max_entries: int = 1_000,
        max_event_ids: int = 50,
        allowed_lateness: timedelta = timedelta(minutes=2),
    ) -> None:
        if max_groups < 1 or max_entries < 1 or max_event_ids < 0:
            raise ValueError("max_groups and max_entries must be positive, max_event_ids not negative")
        self.correlations = correlations
        self.stats = TrackerStats()
        self._max_groups = max_groups
        self._max_entries = max_entries
        self._max_event_ids = max_event_ids
        self._lateness_us = int(allowed_lateness / timedelta(microseconds=1))
        self._groups: dict[str, OrderedDict[tuple[str, ...], GroupWindow]] = {
            correlation.id: OrderedDict() for correlation in correlations.correlations
        }
        self._watermark_us: dict[str, int] = {}

    def observe(
        self, base_rule_id: str, event: Mapping[str, Any], timestamp: datetime
    ) -> list[CorrelationMatch]:
        """Feed one base-rule match (``base_rule_id``: the rule's UUID or name) in a single process.

        Matches of correlations that feed other correlations are fed on at once, and returned too.
        """
        matches: list[CorrelationMatch] = []
        for correlation in self.correlations.feeding(base_rule_id):
            record = to_input(correlation, base_rule_id, event, timestamp)
            if record is not None:
                matches.extend(self.observe_input(record))
        pending = list(matches)
        while pending:  # compile-time checks rule out cycles, so this ends
            for record in inputs_from_match(self.correlations, pending.pop()):
                found = self.observe_input(record)
                matches.extend(found)
                pending.extend(found)
        return matches

    def observe_input(self, record: CorrelationInput) -> list[CorrelationMatch]:
        """Feed one decoded record from the repartition topic; returns the match it completes, if any."""
        correlation = self.correlations.by_id.get(record.correlation_id)
        if correlation is None:
            self.stats.unknown_correlation += 1
            return []
        self.stats.observed += 1
        window_us = correlation.window_us
        watermark = max(self._watermark_us.get(correlation.id, record.timestamp_us), record.timestamp_us)
        self._watermark_us[correlation.id] = watermark
        groups = self._groups[correlation.id]
        self._expire(groups, watermark - window_us - self._lateness_us)
        if record.timestamp_us < watermark - window_us - self._lateness_us:
            self.stats.late += 1
            return []
        window = self._window(groups, record.group)
        if record.timestamp_us < window.newest_us - window_us:
            self.stats.late += 1
            return []
        entry = Entry(record.timestamp_us, record.base_rule_id, record.event_id, record.value)
        if window.holds(entry):
            self.stats.duplicates += 1
            return []
        self.stats.entries_dropped += window.add(entry, window_us, self._max_entries)
        outcome = evaluate(correlation, window.entries)
        if outcome is None:
            return []
        slot = outcome.contributing[0].timestamp_us // window_us
        if window.last_fired_slot is not None and slot <= window.last_fired_slot:
            return []
        window.last_fired_slot = slot
        self.stats.matches += 1
        return [self._match(correlation, record.group, slot, window, outcome)]

    def group_count(self, correlation_id: str) -> int:
        return len(self._groups.get(correlation_id, ()))

    def _window(
        self, groups: OrderedDict[tuple[str, ...], GroupWindow], group: tuple[str, ...]
    ) -> GroupWindow:
        window = groups.get(group)
        if window is None:
            while len(groups) >= self._max_groups:
                groups.popitem(last=False)
                self.stats.groups_evicted += 1
            window = groups[group] = GroupWindow()
        else:
            groups.move_to_end(group)
        return window

    def _expire(self, groups: OrderedDict[tuple[str, ...], GroupWindow], horizon_us: int) -> None:
        # Least recently updated first; stop at the first live group, the rest go on later calls.
        while groups:
            oldest = next(iter(groups.values()))
            if oldest.newest_us >= horizon_us:
                return
            groups.popitem(last=False)
            self.stats.groups_expired += 1

    def _match(
        self,
        correlation: CompiledCorrelation,
        group: tuple[str, ...],
        slot: int,
        window: GroupWindow,
        outcome: Outcome,
    ) -> CorrelationMatch:
        episode_start_us = slot * correlation.window_us
        contributing = outcome.contributing
        return CorrelationMatch(
            id=match_id(correlation.id, group, episode_start_us),
            correlation=correlation,
            group=dict(zip(correlation.group_by, group, strict=True)),
            episode_start=micros_to_datetime(episode_start_us),
            window_start=micros_to_datetime(contributing[0].timestamp_us),
            window_end=micros_to_datetime(window.newest_us),
            value=outcome.aggregate,
            event_count=len(contributing),
            event_ids=tuple(entry.event_id for entry in contributing[: self._max_event_ids]),
            base_rule_ids=tuple(dict.fromkeys(entry.base_rule_id for entry in contributing)),
        )
