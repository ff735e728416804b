"""How the pre-filter reads an event: fields grouped under their parent object, short and one-character
literals in an automaton scanned hit by hit or in bulk. Whatever the event's shape, the rules it lets
through must include every rule that matches (here: exactly those, as each rule is one literal test)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from collector.detection import DetectionEngine
from collector.detection.event_view import EventView
from collector.detection.prefilter import RouteIndex
from tests.unit.collector.detection.detection_helpers import engine_for, engine_for_titled, rule_text

# Enough literals on process.command_line that the field gets an automaton, short ones enough for bulk scans.
COMMAND_WORDS = {"backtick": "`", "caret": "^", "pipe": "|", "curl": "curl", "wget": "wget"}
COMMAND_WORDS |= {"dev tcp": "/dev/tcp", "base64": "base64", "enc": "-enc", "amp": "&", "semicolon": ";"}
RULES = {
    title: f"sel:\n  process.command_line|contains: '{word}'\ncondition: sel"
    for title, word in COMMAND_WORDS.items()
}
RULES |= {
    "parent sh": "sel:\n  process.parent.executable|endswith: /sh\ncondition: sel",
    "parent name": "sel:\n  process.parent.name: bash\ncondition: sel",
    "user": "sel:\n  user.name: root\ncondition: sel",
    "pid": "sel:\n  process.pid: '77'\ncondition: sel",
    "caret and parent": "a:\n  process.command_line|contains: '^'\nb:\n  process.parent.name: cmd\n"
    "condition: a and b",
}

pytestmark = pytest.mark.usefixtures("prefilter_native")  # each test runs on both implementations


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, prefilter_native: bool) -> DetectionEngine:
    return engine_for_titled(tmp_path_factory.mktemp("scan"), RULES)


def _exec(**fields: Any) -> dict[str, Any]:
    return {"event": {"dataset": "canhgac.process", "action": "exec"}, **fields}


def _matched(engine: DetectionEngine, event: dict[str, Any]) -> set[str]:
    found = [match.rule.title for match in engine.match(event)]
    every = [
        rule.title for rule in engine.rules_of_route("process_creation") if rule.matcher(EventView(event))
    ]
    assert found == every, event
    return set(found)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (_exec(process={"command_line": "echo a`b"}), {"backtick"}),
        (_exec(process={"command_line": "C^M^D /c CURL x|y"}), {"caret", "pipe", "curl"}),
        (_exec(process={"command_line": "plain words only"}), set()),
        (_exec(process={"command_line": ["ls", "a^b"]}), {"caret"}),  # a list: the general path
        (_exec(process={"command_line": 5}), set()),
        # parents: nested, null, a list of objects, absent with a flat dotted key instead
        (_exec(process={"parent": {"executable": "/bin/SH", "name": "Bash"}}), {"parent sh", "parent name"}),
        (_exec(process={"parent": None, "command_line": "^"}), {"caret"}),
        (_exec(process=[{"parent": {"name": "bash"}}, {"command_line": "wget"}]), {"parent name", "wget"}),
        (_exec(**{"process.parent.executable": "/usr/bin/sh"}), {"parent sh"}),
        (_exec(process={"command_line": "x"}, **{"process.parent.name": "CMD"}), set()),
        (
            _exec(process={"command_line": "x^"}, **{"process.parent.name": "CMD"}),
            {"caret", "caret and parent"},
        ),
        (_exec(process={"parent": {"name": None}}, **{"process.parent.name": "bash"}), {"parent name"}),
        (_exec(process={"pid": 77, "parent": "not an object"}, user={"name": "ROOT"}), {"pid", "user"}),
        (_exec(process="not an object", user=["root"]), set()),  # a list of strings has no user.name
    ],
)
def test_every_shape_reaches_the_rules(
    engine: DetectionEngine, event: dict[str, Any], expected: set[str]
) -> None:
    assert _matched(engine, event) == expected


def test_short_literals_rule_out_and_let_through(engine: DetectionEngine, prefilter_native: bool) -> None:
    index = RouteIndex(engine.rules_of_route("process_creation"))
    assert index.native == prefilter_native
    assert index.prefiltered_count == len(RULES)
    nothing = index.candidates(EventView(_exec(process={"command_line": "no special characters"})))
    assert list(nothing) == []
    caret = index.candidates(EventView(_exec(process={"command_line": "a^b", "parent": {"name": "cmd"}})))
    assert [rule.title for rule in caret] == ["caret", "caret and parent"]


def test_unicode_single_character_literal(tmp_path: Path) -> None:
    words = ["ǀ", "ÿ", "curl", "wget", "base64", "nc -e"]  # "ǀ" (U+01C0) and "ÿ": one code point each
    detections = [f"sel:\n  process.command_line|contains: '{word}'\ncondition: sel" for word in words]
    engine = engine_for(tmp_path, *(rule_text(d, title=f"rule {n}") for n, d in enumerate(detections)))
    assert engine.errors == []
    assert _matched(engine, _exec(process={"command_line": "aǀb ŸES"})) == {
        "rule 0",
        "rule 1",
    }  # Ÿ lowers to ÿ


def test_weak_clause_is_left_to_the_matcher(engine: DetectionEngine) -> None:
    # "caret and parent" needs process.parent.name == "cmd" (its anchor) and "^" in the command line: a
    # one-character literal rules out almost nothing, so the index asks only for the anchor; the rule's
    # matcher still decides.
    index = RouteIndex(engine.rules_of_route("process_creation"))
    event = _exec(process={"command_line": "no special characters", "parent": {"name": "CMD"}})
    # ("caret", whose only clause is the "^", stays ruled out)
    assert [rule.title for rule in index.candidates(EventView(event))] == ["caret and parent"]
    assert _matched(engine, event) == set()


def test_short_non_ascii_clause_is_kept(tmp_path: Path) -> None:
    # Unlike "^", one-character non-ASCII literals rarely occur, so the index asks for them beside the
    # anchor (the parent's name) instead of leaving them to the rule's matcher.
    detection = "a:\n  process.command_line|contains: ['\u01c0', '\u2215']\nb:\n  process.parent.name: cmd\n"
    engine = engine_for(tmp_path, rule_text(detection + "condition: a and b"))
    index = RouteIndex(engine.rules_of_route("process_creation"))
    plain = _exec(process={"command_line": "dir c:\\ /s", "parent": {"name": "cmd"}})
    assert list(index.candidates(EventView(plain))) == []
    for command in ["dir \u01c0 x", "a\u2215b"]:
        event = _exec(process={"command_line": command, "parent": {"name": "CMD"}})
        assert [rule.title for rule in index.candidates(EventView(event))] == ["test rule"], command
        assert _matched(engine, event) == {"test rule"}
    assert list(index.candidates(EventView(_exec(process={"command_line": "\u01c0"})))) == []
