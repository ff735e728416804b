"""The Rust pre-filter (collector/detection/native) against the Python one: the same candidate rules for
every event, whatever its text (non-ASCII letters whose lower case differs from a byte-wise one) or
shape, and the Python path for what the extension declines."""

from __future__ import annotations

import dataclasses
import random
import shutil
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from collector.detection import DetectionEngine
from collector.detection.event_view import EventView
from collector.detection.prefilter import NATIVE_AVAILABLE, RouteIndex
from collector.detection.requirements import CONTAINS
from tests.unit.collector.detection.detection_helpers import engine_for_titled

needs_native = pytest.mark.skipif(not NATIVE_AVAILABLE, reason="the native pre-filter extension is not built")

# Literals whose lower case is not byte-wise ASCII folding: the Kelvin sign lowers to an ASCII "k",
# "İ" to two code points, a final capital sigma to "ς", "ſ" stays as it is.
RULES = {
    "kill": "sel:\n  process.command_line|contains: 'kill -9'\ncondition: sel",
    "istanbul": "sel:\n  process.command_line|contains: İstanbul\ncondition: sel",
    "odos": "sel:\n  process.name: ΟΔΟΣ\ncondition: sel",
    "long s": "sel:\n  process.command_line|re|i: 'set.*&&'\ncondition: sel",
    "exe": "sel:\n  process.executable|endswith: /Sh\ncondition: sel",
    "parent": "a:\n  process.parent.name: bash\nb:\n  process.command_line|contains: curl\n"
    "condition: a and b",
    "user": "sel:\n  user.name: Root\ncondition: sel",
    "args": "sel:\n  process.args: '-C'\ncondition: sel",
    "nothing": "sel:\n  process.pid: 7\ncondition: sel",  # no literal: every event of the route
}
PIECES = ["kill -9", "\u212aILL -9", "İSTANBUL", "i̇stanbul", "ΟΔΟΣ", "οδος", "ſET a&&", "SET x &&", "/bin/SH"]
PIECES += ["curl", "CURL", "bash", "Root", "-c", "x", "", "\ud800", "ǀ", "\u017f"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> DetectionEngine:
    return engine_for_titled(tmp_path_factory.mktemp("native"), RULES)


def _text(rnd: random.Random) -> str:
    return " ".join(rnd.choice(PIECES) for _ in range(rnd.randint(0, 4)))


def _value(rnd: random.Random) -> Any:
    shape = rnd.random()
    if shape < 0.6:
        return _text(rnd)
    if shape < 0.75:
        return [_text(rnd), _text(rnd)]
    return rnd.choice([None, 7, 7.5, True, {"nested": _text(rnd)}])


def _event(rnd: random.Random) -> dict[str, Any]:
    process: dict[str, Any] = {
        name: _value(rnd) for name in ("command_line", "name", "executable", "args") if rnd.random() < 0.8
    }
    if rnd.random() < 0.5:
        process["parent"] = rnd.choice([{"name": _value(rnd)}, None, "not an object", [{"name": "bash"}]])
    event: dict[str, Any] = {"event": {"dataset": "canhgac.process", "action": "exec"}, "process": process}
    if rnd.random() < 0.3:
        event["user"] = {"name": _value(rnd)}
    if rnd.random() < 0.2:
        event["process.parent.name"] = _value(rnd)  # a flat dotted key beside (or instead of) the object
    if rnd.random() < 0.1:
        event["process"] = rnd.choice([None, "text", [process]])
    return event


@needs_native
def test_both_implementations_let_the_same_rules_through(engine: DetectionEngine) -> None:
    rules = engine.rules_of_route("process_creation")
    python, native = RouteIndex(rules, native=False), RouteIndex(rules, native=True)
    assert native.native
    assert not python.native
    rnd = random.Random(11)
    matched = 0
    for _ in range(4000):
        event = _event(rnd)
        expected = [rule.title for rule in python.candidates(EventView(event))]
        assert [rule.title for rule in native.candidates(EventView(event))] == expected, event
        every = [rule.title for rule in rules if rule.matcher(EventView(event))]
        assert [match.rule.title for match in engine.match(event)] == every, event
        matched += bool(every)
    assert matched > 1000  # the generated events do exercise the rules (1,313 with this seed)


@needs_native
@pytest.mark.parametrize(
    ("command_line", "name", "expected"),
    [
        ("\u212aILL -9 1", "x", {"kill", "nothing"}),  # Kelvin sign: lower() gives "kill"
        ("go to İSTANBUL", "x", {"istanbul", "nothing"}),
        ("go to ISTANBUL", "x", {"nothing"}),  # "I" is not "İ"
        ("x", "ΟΔΟΣ", {"odos", "nothing"}),  # final sigma, lowered by Python's rules
        ("\u017fet a && b", "x", {"long s", "nothing"}),
        ("bad \ud800 kill -9", "x", {"kill", "nothing"}),  # not UTF-8: the Python path
    ],
)
def test_non_ascii_text_is_lowered_as_python_does(
    engine: DetectionEngine, command_line: str, name: str, expected: set[str]
) -> None:
    native = RouteIndex(engine.rules_of_route("process_creation"), native=True)
    event = {"event": {"dataset": "canhgac.process", "action": "exec"}}
    event["process"] = {"command_line": command_line, "name": name}
    assert {rule.title for rule in native.candidates(EventView(event))} == expected
    assert {match.rule.title for match in engine.match(event)} == expected - {"nothing"}


@needs_native
def test_an_event_that_is_not_a_dict_takes_the_python_path(engine: DetectionEngine) -> None:
    native = RouteIndex(engine.rules_of_route("process_creation"), native=True)
    event = {"event": {"dataset": "canhgac.process", "action": "exec"}, "user": {"name": "ROOT"}}
    found = native.candidates(EventView(MappingProxyType(event)))
    assert [rule.title for rule in found] == ["user", "nothing"]


def test_the_extension_is_built_where_cargo_is() -> None:
    # pyproject marks the extension optional, so an install without cargo still works; where cargo is
    # on PATH (developers, CI) a missing extension means the build broke and the tests above were skipped.
    assert NATIVE_AVAILABLE or shutil.which("cargo") is None


@needs_native
def test_native_index_refuses_bad_tables() -> None:
    from collector.detection._prefilter_native import NativeIndex

    with pytest.raises(ValueError, match="out of range"):
        NativeIndex([], [(3, [0], [])], [], [], 2)
    with pytest.raises(ValueError, match="out of range"):
        NativeIndex([], [], [5], ["rule"], 1)  # type: ignore[list-item]


@needs_native
def test_a_route_without_literals(tmp_path: Path) -> None:
    engine = engine_for_titled(tmp_path, {"only null": "sel:\n  process.name: null\ncondition: sel"})
    index = RouteIndex(engine.rules_of_route("process_creation"), native=True)
    event = {"event": {"dataset": "canhgac.process", "action": "exec"}, "process": {"name": "x"}}
    assert [rule.title for rule in index.candidates(EventView(event))] == ["only null"]


@needs_native
def test_a_literal_that_is_not_utf8_keeps_the_python_scan(engine: DetectionEngine) -> None:
    # YAML refuses lone surrogates, but a rule built otherwise may carry one: its route keeps the Python scan
    rule = dataclasses.replace(
        engine.rules_of_route("process_creation")[0],
        requirement=(frozenset({("process.command_line", "a\ud800b", CONTAINS)}),),
    )
    index = RouteIndex([rule], native=True)
    assert not index.native
    event = {"event": {"dataset": "canhgac.process", "action": "exec"}}
    event["process"] = {"command_line": "xA\ud800By"}
    assert list(index.candidates(EventView(event))) == [rule]
    event["process"] = {"command_line": "ab"}
    assert list(index.candidates(EventView(event))) == []
