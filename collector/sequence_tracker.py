"""Per-agent ``event.sequence`` checks: gaps (events that never arrived) and replays (a number reused by a
different event), without alerting on Kafka's at-least-once redelivery.

Why this is correct across crashes and rebalances:

* An agent keys every message by its host id, so all its events are in one partition, in order, and one
  collector process at a time reads them in that order.
* Memory is only trusted while this process reads a partition without interruption: each batch must start
  at the offset after the previous one. Any other offset (a rebalance, a re-seek after a failed commit, a
  restart) makes the tracker forget the agents of that partition.
* An agent the tracker does not know is loaded lazily from Elasticsearch: the highest *verified*
  ``event.sequence`` indexed for it (after a refresh, so everything already written is visible). Offsets
  are committed only after a batch's events are indexed, so every event before the committed offset is
  in that maximum, and replayed messages start at or below it + 1: no false gap.
* A sequence at or below the highest seen is a redelivery when the same event id holds it (in memory, or
  in Elasticsearch for numbers older than memory), a replay when only other event ids do, and a late
  arrival (no alert) when nobody does.
* Only verified events reach the tracker: an unverified claim must not move a real agent's numbers.
* An agent with no verified history starts at its first verified event (no gap is alerted before it).

The tracker is retry-safe: all reads from Elasticsearch happen before any state changes, so a batch whose
step failed (and is retried) sees the same state.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

RECENT_PER_AGENT = 2048
"""Sequence → event id pairs kept per agent; redelivery further back is answered by Elasticsearch."""


@dataclass(frozen=True, slots=True)
class Observed:
    """One verified event, with where it was read from."""

    agent_id: str
    sequence: int
    event_id: str
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class Finding:
    kind: Literal["gap", "replay"]
    observed: Observed
    first: int
    """The first missing sequence (gap), or the reused one (replay)."""
    last: int
    """The last missing sequence (gap), or the reused one (replay)."""
    previous_event_ids: tuple[str, ...] = ()
    """For a replay: the event ids that already held the number."""


class SequenceHistory(Protocol):
    """What the index remembers of verified events (see :mod:`collector.sequence_history`)."""

    async def last_sequences(self, agent_ids: Collection[str]) -> dict[str, int]:
        """The highest verified sequence per agent; agents with none are left out."""
        ...

    async def event_ids_at(self, pairs: Collection[tuple[str, int]]) -> dict[tuple[str, int], set[str]]:
        """The verified event ids indexed at each (agent id, sequence); pairs with none are left out."""
        ...


@dataclass(slots=True)
class _AgentState:
    last: int | None
    where: tuple[str, int]
    recent: OrderedDict[int, str] = field(default_factory=OrderedDict)

    def remember(self, sequence: int, event_id: str) -> None:
        self.recent[sequence] = event_id
        if len(self.recent) > RECENT_PER_AGENT:
            self.recent.popitem(last=False)


Position = tuple[str, int, int]
"""(topic, partition, offset) of every message of a batch, valid or not, in consumption order."""


class SequenceTracker:
    def __init__(self, history: SequenceHistory) -> None:
        self._history = history
        self._agents: dict[str, _AgentState] = {}
        self._next_offset: dict[tuple[str, int], int] = {}
        self.reloads = 0

    async def observe(self, positions: Sequence[Position], events: Sequence[Observed]) -> list[Finding]:
        """Check one batch (``events`` in consumption order); returns what to alert on."""
        firsts: dict[tuple[str, int], int] = {}
        lasts: dict[tuple[str, int], int] = {}
        for topic, partition, offset in positions:
            firsts.setdefault((topic, partition), offset)
            lasts[(topic, partition)] = offset
        for tp, first in firsts.items():
            if self._next_offset.get(tp) != first:
                self._forget(tp)  # idempotent, so a retried batch takes the same path
        unknown = {item.agent_id for item in events if item.agent_id not in self._agents}
        baselines = await self._history.last_sequences(unknown) if unknown else {}
        lookups = await self._lookups(events, baselines)
        for agent_id in unknown:
            first_seen = next(item for item in events if item.agent_id == agent_id)
            where = (first_seen.topic, first_seen.partition)
            self._agents[agent_id] = _AgentState(baselines.get(agent_id), where)
            self.reloads += 1
        findings = [finding for item in events if (finding := self._step(item, lookups)) is not None]
        for tp, last in lasts.items():
            self._next_offset[tp] = last + 1
        return findings

    def _forget(self, tp: tuple[str, int]) -> None:
        for agent_id in [a for a, state in self._agents.items() if state.where == tp]:
            del self._agents[agent_id]

    async def _lookups(
        self, events: Sequence[Observed], baselines: Mapping[str, int]
    ) -> dict[tuple[str, int], set[str]]:
        """Ask the index about the numbers at or below an agent's last that memory cannot answer. A dry
        run of :meth:`_step` without changing state."""
        last: dict[str, int | None] = {}
        seen: dict[str, set[int]] = {}
        needed: set[tuple[str, int]] = set()
        for item in events:
            state = self._agents.get(item.agent_id)
            if item.agent_id not in last:
                last[item.agent_id] = state.last if state is not None else baselines.get(item.agent_id)
            current = last[item.agent_id]
            batch_seen = seen.setdefault(item.agent_id, set())
            if current is not None and item.sequence <= current:
                in_memory = state is not None and item.sequence in state.recent
                if not in_memory and item.sequence not in batch_seen:
                    needed.add((item.agent_id, item.sequence))
            else:
                last[item.agent_id] = item.sequence
            batch_seen.add(item.sequence)
        return await self._history.event_ids_at(needed) if needed else {}

    def _step(self, item: Observed, lookups: Mapping[tuple[str, int], set[str]]) -> Finding | None:
        state = self._agents[item.agent_id]
        state.where = (item.topic, item.partition)
        if state.last is None or item.sequence == state.last + 1:
            state.last = item.sequence
            state.remember(item.sequence, item.event_id)
            return None
        if item.sequence > state.last:
            gap = Finding("gap", item, state.last + 1, item.sequence - 1)
            state.last = item.sequence
            state.remember(item.sequence, item.event_id)
            return gap
        known = state.recent.get(item.sequence)
        holders = {known} if known is not None else lookups.get((item.agent_id, item.sequence), set())
        if not holders:
            state.remember(item.sequence, item.event_id)  # late arrival of a number nobody used
            return None
        if item.event_id in holders:
            return None  # redelivery of the same event
        return Finding("replay", item, item.sequence, item.sequence, tuple(sorted(holders)))
