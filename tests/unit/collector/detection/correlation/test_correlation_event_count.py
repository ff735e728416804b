from __future__ import annotations

from collector.detection.correlation import CorrelationTracker
from tests.unit.collector.detection.correlation.correlation_helpers import (
    FAILED_ID,
    at,
    auth_event,
    feed,
    load,
)

BRUTE_FORCE = """
title: SSH brute force from one source
id: 9a1c0000-0000-4000-8000-0000000000b1
correlation:
  type: event_count
  rules: ssh_failed_login
  group-by: [source.ip]
  timespan: 60s
  condition: {gte: 5}
level: high
"""


def tracker() -> CorrelationTracker:
    return CorrelationTracker(load(BRUTE_FORCE))


def test_five_failures_from_one_source_within_a_minute_fire_once() -> None:
    matches = feed(tracker(), FAILED_ID, [auth_event(s) for s in (0, 10, 20, 30, 40, 45, 50)])

    assert len(matches) == 1
    match = matches[0]
    assert match.group == {"source.ip": "203.0.113.7"}
    assert match.value == 5
    assert match.window_start == at(0)
    assert match.window_end == at(40)
    assert match.event_ids == tuple(f"evt-203.0.113.7-root-{s}" for s in (0, 10, 20, 30, 40))
    assert match.correlation.title == "SSH brute force from one source"
    assert match.base_rule_ids == (FAILED_ID,)


def test_four_failures_do_not_fire() -> None:
    assert feed(tracker(), FAILED_ID, [auth_event(s) for s in (0, 5, 10, 15)]) == []


def test_two_sources_do_not_mix() -> None:
    events = [auth_event(s, "198.51.100.1" if s % 2 else "198.51.100.2") for s in range(8)]

    assert feed(tracker(), FAILED_ID, events) == []


def test_window_slides_past_old_failures() -> None:
    # 0, 30 fall out of the window by the time of 95..110; only four remain together.
    events = [auth_event(s) for s in (0, 30, 95, 100, 105, 110)]

    assert feed(tracker(), FAILED_ID, events) == []


def test_window_is_inclusive_of_exactly_one_timespan() -> None:
    matches = feed(tracker(), FAILED_ID, [auth_event(s) for s in (0, 15, 30, 45, 60)])

    assert [m.value for m in matches] == [5]


def test_fresh_episode_after_quiet_spell_fires_again_with_a_new_id() -> None:
    first = [auth_event(s) for s in (0, 1, 2, 3, 4, 5, 6)]
    second = [auth_event(s) for s in (300, 301, 302, 303, 304)]

    matches = feed(tracker(), FAILED_ID, first + second)

    assert [m.window_start for m in matches] == [at(0), at(300)]
    assert matches[0].id != matches[1].id


def test_sustained_attack_fires_once_per_timespan() -> None:
    matches = feed(tracker(), FAILED_ID, [auth_event(s) for s in range(0, 200, 2)])

    # The window start enters a new 60 s slot once per minute; the last 18 s never start a new slot.
    assert [m.window_start for m in matches] == [at(0), at(60), at(120)]
    assert [m.window_end for m in matches] == [at(8), at(120), at(180)]
    assert len({m.id for m in matches}) == 3


def test_events_without_the_group_field_are_ignored() -> None:
    events = [auth_event(s) for s in range(6)]
    for event in events:
        del event["source"]

    engine = tracker()

    assert feed(engine, FAILED_ID, events) == []
    assert engine.stats.observed == 0


def test_unrelated_rule_feeds_nothing() -> None:
    engine = tracker()

    assert feed(engine, "some-other-rule", [auth_event(s) for s in range(6)]) == []
    assert engine.group_count("9a1c0000-0000-4000-8000-0000000000b1") == 0


def test_base_rule_can_be_named_by_its_name() -> None:
    matches = feed(tracker(), "ssh_failed_login", [auth_event(s) for s in range(5)])

    assert len(matches) == 1
    assert matches[0].base_rule_ids == (FAILED_ID,)


def test_event_id_list_is_capped_but_count_is_not() -> None:
    engine = CorrelationTracker(load(BRUTE_FORCE.replace("gte: 5", "gte: 20")), max_event_ids=3)

    matches = feed(engine, FAILED_ID, [auth_event(s) for s in range(20)])

    assert len(matches) == 1
    assert matches[0].event_count == 20
    assert len(matches[0].event_ids) == 3
