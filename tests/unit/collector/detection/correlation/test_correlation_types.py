from __future__ import annotations

from typing import Any

import pytest

from collector.detection.correlation import CorrelationKind, CorrelationMatch, CorrelationTracker
from tests.unit.collector.detection.correlation.correlation_helpers import (
    FAILED_ID,
    MANY_FAILURES_THEN_SUCCESS,
    SUCCESS_ID,
    at,
    auth_event,
    feed,
    load,
)

SPRAYING = """
title: Password spraying from one source
id: 9a1c0000-0000-4000-8000-0000000000c1
correlation:
  type: value_count
  rules: ssh_failed_login
  group-by: [source.ip]
  timespan: 5m
  condition: {gte: 4, field: user.name}
"""

FAIL_THEN_SUCCESS = """
title: Successful login after repeated failures
id: 9a1c0000-0000-4000-8000-0000000000d1
correlation:
  type: temporal_ordered
  rules: [ssh_failed_login, ssh_failed_login, ssh_failed_login, ssh_successful_login]
  group-by: [source.ip]
  timespan: 2m
"""

BOTH_SEEN = """
title: Failure and success from one source
id: 9a1c0000-0000-4000-8000-0000000000e1
correlation:
  type: temporal
  rules: [ssh_failed_login, ssh_successful_login]
  group-by: [source.ip]
  timespan: 1m
"""


def success(seconds: float, source_ip: str = "203.0.113.7", user: str = "root") -> dict[str, Any]:
    event = auth_event(seconds, source_ip, user, event_id=f"ok-{source_ip}-{seconds}")
    event["event"]["outcome"] = "success"
    return event


def run(tracker: CorrelationTracker, steps: list[tuple[str, dict[str, Any]]]) -> list[CorrelationMatch]:
    matches: list[CorrelationMatch] = []
    for rule_id, event in steps:
        matches.extend(feed(tracker, rule_id, [event]))
    return matches


def test_value_count_fires_on_distinct_users_from_one_source() -> None:
    tracker = CorrelationTracker(load(SPRAYING))
    users = ["root", "admin", "root", "oracle", "admin", "postgres", "ubuntu"]

    matches = feed(tracker, FAILED_ID, [auth_event(i * 10, user=u) for i, u in enumerate(users)])

    assert len(matches) == 1
    assert matches[0].value == 4  # root, admin, oracle, postgres: at the 6th event
    assert matches[0].window_end == at(50)
    assert matches[0].correlation.kind is CorrelationKind.VALUE_COUNT


def test_value_count_does_not_fire_on_one_user_retried() -> None:
    tracker = CorrelationTracker(load(SPRAYING))

    assert feed(tracker, FAILED_ID, [auth_event(i, user="root") for i in range(30)]) == []


def test_temporal_ordered_fires_on_failures_then_success() -> None:
    tracker = CorrelationTracker(load(FAIL_THEN_SUCCESS))
    steps = [(FAILED_ID, auth_event(s)) for s in (0, 5, 10, 15)] + [(SUCCESS_ID, success(20))]

    matches = run(tracker, steps)

    assert len(matches) == 1
    assert matches[0].event_ids == (
        "evt-203.0.113.7-root-0",
        "evt-203.0.113.7-root-5",
        "evt-203.0.113.7-root-10",
        "ok-203.0.113.7-20",
    )
    assert matches[0].base_rule_ids == (FAILED_ID, SUCCESS_ID)


def test_temporal_ordered_ignores_success_before_failures() -> None:
    tracker = CorrelationTracker(load(FAIL_THEN_SUCCESS))
    steps = [(SUCCESS_ID, success(0))] + [(FAILED_ID, auth_event(s)) for s in (5, 10, 15, 20)]

    assert run(tracker, steps) == []


def test_temporal_ordered_needs_the_whole_sequence_within_the_window() -> None:
    tracker = CorrelationTracker(load(FAIL_THEN_SUCCESS))
    steps = [(FAILED_ID, auth_event(s)) for s in (0, 5, 10)] + [(SUCCESS_ID, success(125))]

    assert run(tracker, steps) == []


def test_temporal_fires_when_both_rules_match_in_any_order() -> None:
    tracker = CorrelationTracker(load(BOTH_SEEN))

    matches = run(tracker, [(SUCCESS_ID, success(0)), (FAILED_ID, auth_event(30))])

    assert [m.value for m in matches] == [2]


def test_temporal_does_not_fire_across_groups_or_windows() -> None:
    tracker = CorrelationTracker(load(BOTH_SEEN))
    steps = [
        (SUCCESS_ID, success(0, "198.51.100.1")),
        (FAILED_ID, auth_event(10, "198.51.100.2")),
        (FAILED_ID, auth_event(90, "198.51.100.1")),
    ]

    assert run(tracker, steps) == []


def test_temporal_extended_condition_with_not() -> None:
    rule = BOTH_SEEN.replace(
        "  rules: [ssh_failed_login, ssh_successful_login]\n",
        "  condition: ssh_failed_login and not ssh_successful_login\n",
    )
    tracker = CorrelationTracker(load(rule))

    only_failed = [(FAILED_ID, auth_event(0, "198.51.100.1")), (SUCCESS_ID, success(1, "198.51.100.2"))]
    both = [(SUCCESS_ID, success(2, "198.51.100.3")), (FAILED_ID, auth_event(3, "198.51.100.3"))]

    assert [m.group for m in run(tracker, only_failed)] == [{"source.ip": "198.51.100.1"}]
    assert run(tracker, both) == []


def transfer(seconds: float, size: float, host: str = "db-01") -> dict[str, Any]:
    event = auth_event(seconds, event_id=f"xfer-{seconds}")
    event["host"] = {"name": host}
    event["file"] = {"size": size}
    return event


@pytest.mark.parametrize(
    ("kind", "condition", "sizes", "expected"),
    [
        ("value_sum", "{gt: 1000, field: file.size}", [400, 300, 200, 150], 1050.0),
        ("value_avg", "{gte: 500, field: file.size}", [100, 200, 1200], 500.0),
        ("value_percentile", "{gte: 900, field: file.size, percentile: 75}", [10, 20, 30, 950, 990], 950.0),
        ("value_median", "{gte: 300, field: file.size}", [100, 400, 500], 400.0),
    ],
)
def test_numeric_aggregates(kind: str, condition: str, sizes: list[float], expected: float) -> None:
    rule = f"""
title: Large transfers
id: 9a1c0000-0000-4000-8000-0000000000f1
correlation:
  type: {kind}
  rules: ssh_failed_login
  group-by: [host.name]
  timespan: 10m
  condition: {condition}
"""
    tracker = CorrelationTracker(load(rule))

    matches = feed(tracker, FAILED_ID, [transfer(i, size) for i, size in enumerate(sizes)])

    assert [m.value for m in matches] == [expected]
    assert matches[0].window_end == at(len(sizes) - 1)


def test_numeric_aggregate_skips_events_without_a_number() -> None:
    rule = """
title: Large transfers
id: 9a1c0000-0000-4000-8000-0000000000f2
correlation:
  type: value_sum
  rules: ssh_failed_login
  group-by: [host.name]
  timespan: 10m
  condition: {gte: 100, field: file.size}
"""
    tracker = CorrelationTracker(load(rule))
    events = [transfer(0, 60), transfer(1, 0), transfer(2, 0), transfer(3, 50)]
    events[1]["file"]["size"] = "not a number"
    del events[2]["file"]

    matches = feed(tracker, FAILED_ID, events)

    assert [m.value for m in matches] == [110.0]
    assert tracker.stats.observed == 2


def test_correlation_of_a_correlation_fires_on_brute_force_then_success() -> None:
    correlations = load(MANY_FAILURES_THEN_SUCCESS)
    tracker = CorrelationTracker(correlations)
    steps = [(FAILED_ID, auth_event(s)) for s in range(0, 12, 2)] + [(SUCCESS_ID, success(100))]

    matches = run(tracker, steps)

    inner, outer = matches
    assert inner.correlation.id == "9a1c0000-0000-4000-8000-0000000000a1"
    assert not inner.correlation.generates_alerts  # used by another correlation without `generate`
    assert outer.correlation.id == "9a1c0000-0000-4000-8000-0000000000a2"
    assert outer.correlation.generates_alerts
    assert outer.event_ids == (inner.id, "ok-203.0.113.7-100")
    assert outer.window_start == inner.window_end == at(8)


def test_correlation_of_a_correlation_needs_the_inner_one_first() -> None:
    tracker = CorrelationTracker(load(MANY_FAILURES_THEN_SUCCESS))
    steps = [(SUCCESS_ID, success(0))] + [(FAILED_ID, auth_event(s)) for s in range(1, 7)]

    matches = run(tracker, steps)

    assert [m.correlation.id for m in matches] == ["9a1c0000-0000-4000-8000-0000000000a1"]


def test_success_without_enough_failures_does_not_fire_the_outer_rule() -> None:
    tracker = CorrelationTracker(load(MANY_FAILURES_THEN_SUCCESS))
    steps = [(FAILED_ID, auth_event(s)) for s in range(4)] + [(SUCCESS_ID, success(10))]

    assert run(tracker, steps) == []
