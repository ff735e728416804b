"""The literal pre-filter only skips rules that cannot match: engine.match agrees with evaluating every
rule of the route directly, over many generated events."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from collector.detection.event_view import EventView
from collector.detection.prefilter import RouteIndex
from collector.detection.requirements import CONTAINS, NEVER, UNKNOWN, all_of, any_of, literal_clause
from tests.unit.collector.detection.detection_helpers import engine_for, process_event, rule_text, titles

pytestmark = pytest.mark.usefixtures("prefilter_native")  # each test runs on both implementations

WORDS = ["curl", "wget", "/tmp/", "/bin/sh", "base64", "-d", "nc", "python", "-c", "/dev/tcp", "x", "AAAA"]
WORDS += ["CURL", "/TMP/", "Base64", "-C"]  # upper case: for the case-sensitive regexes

DETECTIONS = [
    "sel:\n  process.command_line|contains|all: [curl, /tmp/]\ncondition: sel",
    "a:\n  process.name: [nc, curl]\nb:\n  process.command_line|contains: /dev/tcp\ncondition: a and not b",
    "a:\n  process.name: python\nb:\n  process.command_line|contains: base64\nc:\n  process.args: '-c'\n"
    "condition: a and (b or c)",
    "a:\n  process.command_line|re: 'nc.*-d'\ncondition: a",
    "a:\n  process.command_line|endswith: AAAA\nb:\n  process.name|startswith: w\ncondition: 1 of them",
    "a:\n  process.command_line: '*sh*-c*'\nb:\n  process.name: null\ncondition: a or b",
    "a:\n  process.command_line|contains: curl\nb:\n  process.name|contains: get\ncondition: all of them",
    "k:\n  - 'base64 -d'\n  - '/dev/tcp'\ncondition: k",
    # regexes carry literals into the pre-filter (collector.detection.regex_literals)
    "a:\n  process.command_line|re: 'CURL\\s.*/TMP/'\ncondition: a",
    "a:\n  process.command_line|re|i: 'base64 +-d'\nb:\n  process.name: python\ncondition: a or b",
    "a:\n  process.command_line|re: '(wget|nc) -c'\ncondition: a",
]


def random_event(rnd: random.Random) -> dict[str, Any]:
    command = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(0, 5)))
    event = process_event(command_line=command, args=command.split())
    if rnd.random() < 0.8:
        event["process"]["name"] = rnd.choice(["curl", "wget", "nc", "python", "sh"])
    if rnd.random() < 0.3:
        event["message"] = command
    return event


def test_prefilter_never_drops_a_match(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, *(rule_text(d, title=f"rule {i}") for i, d in enumerate(DETECTIONS)))
    assert engine.errors == []
    rules = engine.rules_of_route("process_creation")
    assert len(rules) == len(DETECTIONS)
    rnd = random.Random(7)
    matched_any = 0
    for _ in range(3000):
        event = random_event(rnd)
        expected = [rule.title for rule in rules if rule.matcher(EventView(event))]
        assert [match.rule.title for match in engine.match(event)] == expected, event
        matched_any += bool(expected)
    assert matched_any > 300  # the generated events do exercise the rules
    regex_rules = [rule for rule in rules if "|re" in rule.source_path.read_text(encoding="utf-8")]
    assert len(regex_rules) == 4
    # each regex has a mandatory literal ("nc", "/tmp/", "base64 ", " -c"): all four are pre-filtered
    assert all(rule.requirement != UNKNOWN for rule in regex_rules)
    for title in ("rule 8", "rule 9"):
        assert sum(title in titles(engine, random_event(rnd)) for _ in range(3000)) > 20


def test_requirement_algebra() -> None:
    curl = literal_clause("f", ["curl"])
    tmp = literal_clause("f", ["/tmp/"])
    assert literal_clause("f", ["a", ""]) == UNKNOWN  # an empty literal rules nothing out
    assert all_of([curl, tmp]) == (*tmp, *curl)  # longer literal ranks first
    assert any_of([curl, UNKNOWN]) == UNKNOWN
    assert any_of([curl, tmp]) == (frozenset({("f", "curl", CONTAINS), ("f", "/tmp/", CONTAINS)}),)
    assert any_of([all_of([curl, tmp]), literal_clause("g", ["nc"])]) == (
        frozenset({("f", "/tmp/", CONTAINS), ("g", "nc", CONTAINS)}),
        frozenset({("f", "curl", CONTAINS), ("g", "nc", CONTAINS)}),
    )
    assert any_of([]) == NEVER
    assert all_of([NEVER, curl])[0] == frozenset()  # an unsatisfiable clause is the most selective


def test_case_insensitive_regex_with_s_requires_its_whole_word(
    tmp_path: Path, prefilter_native: bool
) -> None:
    # Under (?i) RE2 matches "s" with U+017F (long s) too, which lower() leaves as it is: the rule needs
    # "set" or "\u017fet", not just "et" (what it needed when runs were cut at "s").
    rule = rule_text("sel:\n  process.command_line|re: '(?i)set.*&&'\ncondition: sel")
    engine = engine_for(tmp_path, rule)
    index = RouteIndex(engine.rules_of_route("process_creation"))
    assert index.prefiltered_count == 1
    assert index.native == prefilter_native
    for command in ["SET a && b", "\u017fET a && b", "x=1 & sEt a&&b"]:
        event = process_event(command_line=command)
        assert [rule.title for rule in index.candidates(EventView(event))] == ["test rule"], command
        assert titles(engine, event) == ["test rule"], command
    for command in ["et a && b", "get-item && x", "s et && x"]:
        assert list(index.candidates(EventView(process_event(command_line=command)))) == [], command
