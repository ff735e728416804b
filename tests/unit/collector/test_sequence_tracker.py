"""The per-agent sequence checks: gaps, replays, redelivery and state rebuilt from the index."""

from __future__ import annotations

from collections.abc import Collection

from collector.sequence_tracker import Observed, Position, SequenceTracker


class History:
    """What the index holds: (agent, sequence) → event ids of verified events."""

    def __init__(self) -> None:
        self.indexed: dict[tuple[str, int], set[str]] = {}
        self.asked_last: list[set[str]] = []
        self.asked_pairs: list[set[tuple[str, int]]] = []

    def index(self, items: list[Observed]) -> None:
        for item in items:
            self.indexed.setdefault((item.agent_id, item.sequence), set()).add(item.event_id)

    async def last_sequences(self, agent_ids: Collection[str]) -> dict[str, int]:
        self.asked_last.append(set(agent_ids))
        found: dict[str, int] = {}
        for agent, seq in self.indexed:
            if agent in agent_ids:
                found[agent] = max(found.get(agent, 0), seq)
        return found

    async def event_ids_at(self, pairs: Collection[tuple[str, int]]) -> dict[tuple[str, int], set[str]]:
        self.asked_pairs.append(set(pairs))
        return {pair: set(self.indexed[pair]) for pair in pairs if pair in self.indexed}


class Stream:
    """One partition with agents writing to it, offsets counting up."""

    def __init__(self) -> None:
        self.offset = 0

    def events(self, agent: str, sequences: list[int], tag: str = "") -> list[Observed]:
        out = []
        for seq in sequences:
            out.append(Observed(agent, seq, f"{agent}-{seq}{tag}", "events", 0, self.offset))
            self.offset += 1
        return out


def positions(items: list[Observed]) -> list[Position]:
    return [(i.topic, i.partition, i.offset) for i in items]


async def observe(tracker: SequenceTracker, items: list[Observed]) -> list[tuple[str, int, int]]:
    findings = await tracker.observe(positions(items), items)
    return [(f.kind, f.first, f.last) for f in findings]


async def test_a_continuous_stream_raises_nothing_and_a_gap_names_its_range() -> None:
    tracker, stream = SequenceTracker(History()), Stream()
    assert await observe(tracker, stream.events("a", [1, 2, 3])) == []
    assert await observe(tracker, stream.events("a", [4, 8, 9])) == [("gap", 5, 7)]
    assert await observe(tracker, stream.events("b", [40, 41])) == [], "an unknown agent starts a baseline"


async def test_a_reused_sequence_with_another_event_id_is_a_replay_the_same_event_is_not() -> None:
    tracker, stream = SequenceTracker(History()), Stream()
    first = stream.events("a", [1, 2, 3])
    await observe(tracker, first)
    redelivered = stream.events("a", [2, 3])  # the agent resent after a lost acknowledgement
    assert await observe(tracker, redelivered) == []
    replayed = stream.events("a", [2], tag="-forged")
    findings = await tracker.observe(positions(replayed), replayed)
    assert [(f.kind, f.first) for f in findings] == [("replay", 2)]
    assert findings[0].previous_event_ids == ("a-2",)


async def test_a_restarted_collector_rebuilds_from_the_index_without_false_alerts() -> None:
    history, stream = History(), Stream()
    before = stream.events("a", list(range(1, 11)))
    await observe(SequenceTracker(history), before)
    history.index(before)  # everything up to 10 was indexed; only 1-6 were committed
    restarted = SequenceTracker(history)
    replay_from_commit = [
        Observed("a", item.sequence, item.event_id, "events", 0, item.offset) for item in before[6:]
    ]
    assert await observe(restarted, replay_from_commit + stream.events("a", [11, 12])) == []
    assert history.asked_last == [{"a"}, {"a"}], "each process loads the agent once"
    assert history.asked_pairs == [{("a", 7), ("a", 8), ("a", 9), ("a", 10)}]
    assert await observe(restarted, stream.events("a", [12], tag="-x")) == [("replay", 12, 12)]
    assert await observe(restarted, stream.events("a", [20])) == [("gap", 13, 19)]


async def test_an_interrupted_partition_is_forgotten_and_reloaded() -> None:
    history, stream = History(), Stream()
    tracker = SequenceTracker(history)
    first = stream.events("a", [1, 2, 3])
    await observe(tracker, first)
    history.index(first)
    # Another collector owned the partition meanwhile and saw 4-6; this process gets it back later.
    elsewhere = stream.events("a", [4, 5, 6])
    history.index(elsewhere)
    assert await observe(tracker, stream.events("a", [7])) == [], "no false gap 4-6"
    assert history.asked_last == [{"a"}, {"a"}]


async def test_a_failed_lookup_leaves_the_state_unchanged_so_the_retry_sees_the_same() -> None:
    class Failing(History):
        fail = True

        async def event_ids_at(self, pairs: Collection[tuple[str, int]]) -> dict[tuple[str, int], set[str]]:
            if self.fail:
                self.fail = False
                raise ConnectionError("index down")
            return await super().event_ids_at(pairs)

    history, stream = Failing(), Stream()
    first = stream.events("a", [1, 2, 3])
    history.index(first)
    tracker = SequenceTracker(history)
    batch = stream.events("a", [2], tag="-forged") + stream.events("a", [4, 6])
    try:
        await observe(tracker, batch)
    except ConnectionError:
        pass
    else:
        raise AssertionError("the lookup failure must reach the caller, who retries")
    assert await observe(tracker, batch) == [("replay", 2, 2), ("gap", 5, 5)]
