"""The generated matchers agree with plain evaluation: string tests with StringSet.matches_any, ``*`` globs
with an RE2 full match, condition trees with a recursive evaluator; and rule text never becomes source."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from sigma.types import SigmaCasedString, SigmaString

from collector.detection.compiled import Compiled, all_of, any_of, negate
from collector.detection.event_view import EventView, FieldRef
from collector.detection.regex import compile_re2, escape
from collector.detection.regex_literals import minimum_length
from collector.detection.requirements import UNKNOWN
from collector.detection.rule_code import (
    AllOf,
    AnyOf,
    Call,
    Node,
    Not,
    Presence,
    SameText,
    Search,
    Strings,
    build_matcher,
    source_of,
)
from collector.detection.string_patterns import StringSet, glob_matches, to_pattern
from tests.unit.collector.detection.detection_helpers import process_event, single_rule

VALUES = ["curl", "*curl", "curl*", "*curl*", "*/tmp/*", "wget", "*.sh", "/bin/*", "*", "a*b", "*x?y*"]
VALUES += ["*a*b*", "a*b*c", "*/tmp/*.sh", "/bin/*a*", "**x**", "*curl*", "*wget*", "*.py", "x*", ""]
PIECES = ["curl", "/tmp/", "wget", ".sh", "/bin/", "a", "b", "x", "zy", " ", "CURL", "C", "A"]
FIELDS = ["f", "g", "h.i"]
REGEXES = ["cu?rl", "^/tmp/", "[ab]{2}", "(?i)CURL", "x.*y", "wget$"]


def random_text(rnd: random.Random) -> str:
    return "".join(rnd.choice(PIECES) for _ in range(rnd.randint(0, 4)))


def random_field_value(rnd: random.Random) -> Any:
    """Mostly one string, as events carry; sometimes absent, a list, a number or an object."""
    kind = rnd.random()
    if kind < 0.6:
        return random_text(rnd)
    if kind < 0.7:
        return None
    if kind < 0.85:
        return [random_text(rnd) for _ in range(rnd.randint(0, 3))]
    return 12 if kind < 0.93 else {"nested": "curl"}


def random_event(rnd: random.Random) -> dict[str, Any]:
    event: dict[str, Any] = {"h": {}}
    for name in ("f", "g"):
        value = random_field_value(rnd)
        if value is not None:
            event[name] = value
    value = random_field_value(rnd)
    if value is not None:
        event["h"]["i"] = value
    return event


def random_strings(rnd: random.Random, ref: FieldRef) -> tuple[Strings, StringSet]:
    cased = rnd.random() < 0.2
    values = rnd.sample(VALUES, rnd.randint(1, 12))
    patterns = [to_pattern(SigmaCasedString(value) if cased else SigmaString(value)) for value in values]
    strings = StringSet(patterns)
    return Strings(ref, strings, lowered=not cased), strings


def reference(node: Node, view: EventView) -> bool:
    """The tree evaluated the plain way, one node at a time."""
    if isinstance(node, Strings):
        texts = view.lowered(node.ref) if node.lowered else view.texts(node.ref)
        return node.strings.matches_any(texts)
    if isinstance(node, Call):
        return node.matcher(view)
    if isinstance(node, Search):
        return any(node.regex.search(text) for text in view.texts(node.ref))
    if isinstance(node, Presence):
        return bool(view.values(node.ref)) is node.present
    if isinstance(node, SameText):
        return any(text in view.lowered(node.other) for text in view.lowered(node.ref))
    if isinstance(node, Not):
        return not reference(node.part, view)
    if isinstance(node, AllOf):
        return all(reference(part, view) for part in node.parts)
    assert isinstance(node, AnyOf)
    return any(reference(part, view) for part in node.parts)


def same_text(view: EventView) -> bool:
    raise AssertionError("the reference evaluator never calls the matcher")


def random_tree(rnd: random.Random, depth: int) -> Compiled:
    if depth == 0 or rnd.random() < 0.3:
        ref = FieldRef(rnd.choice(FIELDS))
        kind = rnd.random()
        if kind < 0.05:
            return Compiled(Call(lambda view: not view.values(ref), 3), UNKNOWN)
        if kind < 0.1:
            regex = compile_re2(rnd.choice(REGEXES))
            return Compiled(Search(ref, regex, minimum_length(regex.pattern)), UNKNOWN)
        if kind < 0.15:
            present = rnd.random() < 0.5
            return Compiled(Presence(ref, present, lambda view: bool(view.values(ref)) is present), UNKNOWN)
        if kind < 0.2:
            other = FieldRef(rnd.choice(FIELDS))
            same = SameText(ref, other, lambda view: reference(SameText(ref, other, same_text), view))
            return Compiled(same, UNKNOWN)
        node, _ = random_strings(rnd, FieldRef(rnd.choice(FIELDS)))
        return Compiled(node, UNKNOWN)
    parts = [random_tree(rnd, depth - 1) for _ in range(rnd.randint(1, 4))]
    choice = rnd.random()
    if choice < 0.4:
        return all_of(parts)
    if choice < 0.8:
        return any_of(parts)
    return negate(parts[0])


def test_string_tests_agree_with_matches_any() -> None:
    rnd = random.Random(5)
    for _ in range(300):
        ref = FieldRef(rnd.choice(FIELDS))
        node, strings = random_strings(rnd, ref)
        matcher = build_matcher(node)
        for _ in range(20):
            view = EventView(random_event(rnd))
            texts = view.lowered(ref) if node.lowered else view.texts(ref)
            assert matcher(EventView(view.event)) == strings.matches_any(texts), (source_of(matcher), texts)


def test_globs_agree_with_a_regex_full_match() -> None:
    rnd = random.Random(6)
    overlapping = ["*ab*b*", "a*a", "*aa*a", "ab*b", "*a*a*a*", "ab*ba"]
    star_values = [value for value in VALUES if "*" in value and "?" not in value] + overlapping
    for _ in range(2000):
        value = rnd.choice(star_values) + rnd.choice(["", "*", "a", "*b"])
        glob = to_pattern(SigmaString(value)).glob
        # texts made mostly of the value's own pieces hit the edge cases (pieces adjacent, overlapping)
        own = [piece for piece in value.split("*") if piece] or ["a"]
        text = "".join(rnd.choice(own + PIECES[:3]) for _ in range(rnd.randint(0, 4))).lower()
        regex = compile_re2("(?s)" + ".*".join(escape(piece.lower()) for piece in value.split("*")))
        if glob is not None:
            assert glob_matches(text, glob) == regex.fullmatch(text), (value, text)


def test_condition_trees_agree_with_plain_evaluation() -> None:
    """Short-circuiting decides which field reads run; a read reused where it may not have run would raise
    UnboundLocalError or read a stale local, and random trees over three fields would show it."""
    rnd = random.Random(7)
    for _ in range(300):
        compiled = random_tree(rnd, 4)
        matcher = compiled.matcher
        for _ in range(15):
            event = random_event(rnd)
            assert matcher(EventView(event)) == reference(compiled.node, EventView(event)), (
                source_of(matcher),
                event,
            )


def test_rule_text_never_becomes_source(tmp_path: Path) -> None:
    hostile = "x') or __import__('os').system('false') or ('"
    engine = single_rule(
        tmp_path, f'sel:\n  process.command_line|contains: "{hostile}"\n  "a)(b": "1"\ncondition: sel'
    )
    source = source_of(engine.rules[0].matcher)
    code = source[: source.index("# c0 =")]
    assert "import" not in code
    assert "a)(b" not in code
    assert repr(hostile.lower()) in source  # in the legend of constants, not the code
    assert engine.match(process_event(command_line=f"run {hostile}") | {"a)(b": "1"})
    assert not engine.match(process_event(command_line=f"run {hostile}"))


def test_deep_conditions_compile() -> None:
    node: Compiled = Compiled(
        Strings(FieldRef("f"), StringSet([to_pattern(SigmaString("x"))]), True), UNKNOWN
    )
    other = Compiled(Strings(FieldRef("g"), StringSet([to_pattern(SigmaString("*y*"))]), True), UNKNOWN)
    for depth in range(64):
        node = all_of([node, other]) if depth % 2 else any_of([negate(node), other])
    matcher = node.matcher
    for event in ({"f": "x", "g": "y"}, {"f": "X"}, {}):
        assert matcher(EventView(event)) == reference(node.node, EventView(event))


def test_regexes_of_one_field_run_as_one_search_with_their_own_flags(tmp_path: Path) -> None:
    detection = """\
    sel_plain:
      process.command_line|re: 'abc'
    sel_ignorecase:
      process.command_line|re|i: 'XYZ'
    sel_multiline:
      process.command_line|re|m: '^start$'
    condition: 1 of sel_*
    """
    engine = single_rule(tmp_path, detection)
    source = source_of(engine.rules[0].matcher)
    assert source.count("bound method Re2.search") == 1
    cases = {"run abc": True, "run ABC": False, "run xyz": True, "a\nstart\nb": True, "a start b": False}
    for command_line, expected in cases.items():
        assert bool(engine.match(process_event(command_line=command_line))) is expected, command_line
