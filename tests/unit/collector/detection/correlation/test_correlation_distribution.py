"""Repartitioning, replay and bounded state: what the pipeline relies on to run correlations on many
collector processes and to rebuild state after a restart."""

from __future__ import annotations

import random
import zlib
from datetime import datetime, timedelta

import pytest

from collector.detection.correlation import (
    CorrelationInput,
    CorrelationInputError,
    CorrelationMatch,
    CorrelationSet,
    CorrelationTracker,
    decode_input,
    encode_input,
    inputs_from_match,
    record_routing_key,
    routing_key,
    to_input,
)
from tests.unit.collector.detection.correlation.correlation_helpers import (
    FAILED_ID,
    MANY_FAILURES_THEN_SUCCESS,
    SUCCESS_ID,
    at,
    auth_event,
    load,
)

BRUTE_FORCE_ID = "9a1c0000-0000-4000-8000-0000000000b1"
BRUTE_FORCE = f"""
title: SSH brute force from one source
id: {BRUTE_FORCE_ID}
correlation:
  type: event_count
  rules: ssh_failed_login
  group-by: [source.ip, user.name]
  timespan: 60s
  condition: {{gte: 5}}
"""


def attack_records(correlations: CorrelationSet, seed: int = 7) -> list[CorrelationInput]:
    """Ten minutes of failed logins from six sources against two users, with bursts and quiet spells."""
    rng = random.Random(seed)
    correlation = correlations.by_id[BRUTE_FORCE_ID]
    records = []
    for second in range(600):
        for index in range(6):
            if rng.random() < (0.5 if (second // 90 + index) % 3 == 0 else 0.03):
                event = auth_event(
                    second + rng.random(), f"198.51.100.{index}", rng.choice(["root", "admin"])
                )
                record = to_input(correlation, FAILED_ID, event, at(second + rng.random()))
                assert record is not None
                records.append(record)
    return records


def summary(matches: list[CorrelationMatch]) -> list[tuple[object, ...]]:
    return sorted((m.id, m.window_start, m.window_end, m.value, m.event_ids) for m in matches)


def run(tracker: CorrelationTracker, records: list[CorrelationInput]) -> list[CorrelationMatch]:
    return [match for record in records for match in tracker.observe_input(record)]


def test_record_round_trips_through_json_bytes() -> None:
    correlation = load(BRUTE_FORCE).by_id[BRUTE_FORCE_ID]
    record = to_input(correlation, FAILED_ID, auth_event(1.25), at(1.25))
    assert record is not None

    decoded = decode_input(encode_input(record))

    assert decoded == record
    assert decoded.timestamp == at(1.25)
    assert decoded.group == ("203.0.113.7", "root")
    assert decoded.to_dict()["@timestamp"] == "2026-11-22T08:00:01.250000Z"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "expected a JSON object"),
        (b'{"v": 2}', "record version"),
        (
            b'{"v":1,"correlation":"c","rule":"r","event_id":"e","@timestamp":"x","group":[]}',
            "not ISO 8601",
        ),
        (
            b'{"v":1,"correlation":"c","rule":"r","event_id":"e","@timestamp":"2026-01-01T00:00:00Z",'
            b'"group":[1]}',
            "group must be",
        ),
        (b'{"v":1,"correlation":"","rule":"r"}', "correlation must be"),
    ],
)
def test_bad_records_are_rejected_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(CorrelationInputError, match=reason):
        decode_input(data)


def test_routing_key_is_the_same_for_a_group_and_differs_between_groups() -> None:
    correlation = load(BRUTE_FORCE).by_id[BRUTE_FORCE_ID]

    first = routing_key(correlation, auth_event(0), FAILED_ID)
    again = routing_key(correlation, auth_event(50, event_id="other"), FAILED_ID)
    other = routing_key(correlation, auth_event(0, user="admin"), FAILED_ID)
    record = to_input(correlation, FAILED_ID, auth_event(0), at(0))

    assert first is not None
    assert first == again != other
    assert record is not None
    assert record_routing_key(record) == first
    assert routing_key(correlation, {"event": {"id": "x"}}, FAILED_ID) is None


def test_full_replay_from_encoded_records_gives_the_same_matches_and_ids() -> None:
    correlations = load(BRUTE_FORCE)
    records = attack_records(correlations)
    original = run(CorrelationTracker(correlations), records)

    replayed = run(CorrelationTracker(correlations), [decode_input(encode_input(r)) for r in records])

    assert len(original) >= 5
    assert summary(replayed) == summary(original)


def test_two_processes_fed_by_partition_find_what_one_process_finds() -> None:
    correlations = load(BRUTE_FORCE)
    records = attack_records(correlations, seed=11)
    single = run(CorrelationTracker(correlations), records)

    partitions: list[list[CorrelationInput]] = [[], []]
    for record in records:
        partitions[zlib.crc32(record_routing_key(record)) % 2].append(record)
    split = run(CorrelationTracker(correlations), partitions[0]) + run(
        CorrelationTracker(correlations), partitions[1]
    )

    assert all(partitions)
    assert summary(split) == summary(single)


def test_replay_from_one_timespan_before_a_restart_reproduces_ids() -> None:
    """A restart at 5 min 30 s replays from 4 min 30 s: every match it finds after the restart carries the
    id the uninterrupted run gave it, so the alert sink's create-with-id drops the duplicates."""
    correlations = load(BRUTE_FORCE)
    records = attack_records(correlations, seed=3)
    uninterrupted = run(CorrelationTracker(correlations), records)
    restart = at(330)

    replayed = run(
        CorrelationTracker(correlations),
        [r for r in records if r.timestamp >= restart - timedelta(seconds=60)],
    )

    after_restart = {m.id for m in uninterrupted if m.window_end >= restart}
    replayed_after = {m.id for m in replayed if m.window_end >= restart}
    assert after_restart
    assert replayed_after == after_restart


def test_out_of_order_arrival_within_the_window_still_counts() -> None:
    tracker = CorrelationTracker(load(BRUTE_FORCE))
    correlation = tracker.correlations.by_id[BRUTE_FORCE_ID]
    order = [20, 0, 35, 10, 5]
    records = [to_input(correlation, FAILED_ID, auth_event(s), at(s)) for s in order]

    matches = run(tracker, [r for r in records if r is not None])

    assert len(matches) == 1
    assert matches[0].window_start == at(0)
    assert matches[0].window_end == at(35)
    assert matches[0].event_ids[0] == "evt-203.0.113.7-root-0"


def test_input_older_than_the_window_and_lateness_is_dropped_and_counted() -> None:
    tracker = CorrelationTracker(load(BRUTE_FORCE), allowed_lateness=timedelta(seconds=30))
    correlation = tracker.correlations.by_id[BRUTE_FORCE_ID]
    times = [200, 201, 202, 203, 50]  # the last one is 150 s late: beyond 60 s window + 30 s lateness
    records = [to_input(correlation, FAILED_ID, auth_event(s), at(s)) for s in times]

    assert run(tracker, [r for r in records if r is not None]) == []
    assert tracker.stats.late == 1
    assert tracker.stats.observed == 5


def test_group_count_is_capped_and_evictions_are_counted() -> None:
    tracker = CorrelationTracker(load(BRUTE_FORCE), max_groups=3)
    correlation = tracker.correlations.by_id[BRUTE_FORCE_ID]

    for index in range(10):
        record = to_input(correlation, FAILED_ID, auth_event(index, f"192.0.2.{index}"), at(index))
        assert record is not None
        tracker.observe_input(record)

    assert tracker.group_count(BRUTE_FORCE_ID) == 3
    assert tracker.stats.groups_evicted == 7


def test_idle_groups_expire_by_event_time() -> None:
    tracker = CorrelationTracker(load(BRUTE_FORCE), allowed_lateness=timedelta(seconds=10))
    correlation = tracker.correlations.by_id[BRUTE_FORCE_ID]
    sources = [(0, "192.0.2.1"), (5, "192.0.2.2"), (500, "192.0.2.3")]

    for second, source in sources:
        record = to_input(correlation, FAILED_ID, auth_event(second, source), at(second))
        assert record is not None
        tracker.observe_input(record)

    assert tracker.group_count(BRUTE_FORCE_ID) == 1
    assert tracker.stats.groups_expired == 2


def test_entries_per_group_are_capped() -> None:
    tracker = CorrelationTracker(load(BRUTE_FORCE.replace("gte: 5", "gte: 50")), max_entries=10)

    for index in range(40):
        tracker.observe(FAILED_ID, auth_event(index), at(index))

    assert tracker.stats.entries_dropped == 30
    assert tracker.stats.matches == 0


def test_records_for_an_unknown_correlation_are_counted_not_raised() -> None:
    tracker = CorrelationTracker(load(BRUTE_FORCE))
    record = CorrelationInput("retired-rule", FAILED_ID, ("x",), 0, "e")

    assert tracker.observe_input(record) == []
    assert tracker.stats.unknown_correlation == 1


def test_redelivered_records_count_once() -> None:
    tracker = CorrelationTracker(load(BRUTE_FORCE))
    correlation = tracker.correlations.by_id[BRUTE_FORCE_ID]
    records = [to_input(correlation, FAILED_ID, auth_event(s), at(s)) for s in (0, 1, 2, 3)]
    delivered = [r for r in records if r is not None] * 3  # every record delivered three times

    assert run(tracker, delivered) == []
    assert tracker.stats.duplicates == 8


def test_nested_correlation_across_two_processes_matches_one_process() -> None:
    correlations = load(MANY_FAILURES_THEN_SUCCESS)
    steps = []
    for index in range(4):
        source = f"198.51.100.{index}"
        steps += [(FAILED_ID, auth_event(index * 30 + s, source)) for s in range(0, 10, 2)]
        steps.append((SUCCESS_ID, auth_event(index * 30 + 20, source, event_id=f"ok-{index}")))
    single = CorrelationTracker(correlations)
    expected = [m for rule_id, event in steps for m in single.observe(rule_id, event, event_time(event))]

    trackers = [CorrelationTracker(correlations), CorrelationTracker(correlations)]
    topic: list[CorrelationInput] = []
    for rule_id, event in steps:
        for correlation in correlations.feeding(rule_id):
            record = to_input(correlation, rule_id, event, event_time(event))
            assert record is not None
            topic.append(record)
    found: list[CorrelationMatch] = []
    while topic:  # each partition's owner consumes; matches feed outer correlations through the topic
        record = topic.pop(0)
        owner = trackers[zlib.crc32(record_routing_key(record)) % 2]
        for match in owner.observe_input(record):
            found.append(match)
            topic.extend(inputs_from_match(correlations, match))

    outer = "9a1c0000-0000-4000-8000-0000000000a2"
    assert len([m for m in expected if m.correlation.id == outer]) == 4
    assert summary(found) == summary(expected)
    assert all(tracker.stats.observed for tracker in trackers)


def event_time(event: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(event["@timestamp"]))
