"""A rule's condition as one generated Python function instead of nested closures.

The condition compiler builds a small tree: :class:`AllOf`, :class:`AnyOf`, :class:`Not` over leaves
tested inline (:class:`Strings`: string values of one field; :class:`Search`: ``|re``; :class:`Presence`:
``null`` / ``|exists``; :class:`SameText`: ``|fieldref``) and :class:`Call` leaves (any other matcher,
called). :func:`build_matcher` writes the source of one function whose body is a single boolean
expression, ``and`` / ``or`` / ``not`` over inline tests such as ``c3 in f0`` or ``g1.endswith(c4)``,
and compiles it once. A candidate rule then costs one Python call instead of one per tree node, and each
field is read once per call: its first read assigns a local (``(f0 := ...)``) that later tests reuse when
Python's short-circuit order guarantees the read has run.

Safety: rule text never enters the source. Values, field names and matchers are arguments of a factory
(``c0``, ``c1``, ...); the source holds only identifiers and operators written here. :func:`source_of`
shows a rule's generated source with its constants, for debugging
(``source_of(engine.rules[0].matcher)``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import ahocorasick

from collector.detection.errors import RuleCompileError
from collector.detection.event_view import EventView, FieldRef
from collector.detection.regex import Re2
from collector.detection.string_patterns import Glob, StringSet, glob_matches

Matcher = Callable[[EventView], bool]


@dataclass(frozen=True, slots=True)
class Call:
    """Any matcher, called with the view; ``cost`` orders it among its siblings (see :func:`cost`)."""

    matcher: Matcher
    cost: int = 4


@dataclass(frozen=True, slots=True)
class Strings:
    """Any text of ``ref`` matches one of ``strings``: lower-cased texts when ``lowered``, else as sent."""

    ref: FieldRef
    strings: StringSet
    lowered: bool


@dataclass(frozen=True, slots=True)
class Search:
    """Any text of ``ref`` (as sent) contains a match of ``regex``; no match is shorter than ``shortest``."""

    ref: FieldRef
    regex: Re2
    shortest: int


@dataclass(frozen=True, slots=True)
class Presence:
    """``ref`` has a value (``present``) or has none (absent or null); ``matcher`` answers it from the raw
    values, which only a field without texts needs."""

    ref: FieldRef
    present: bool
    matcher: Matcher


@dataclass(frozen=True, slots=True)
class SameText:
    """``ref`` equals ``other`` (``|fieldref``), both lower-cased; ``matcher`` answers it in general, the
    generated code only when each field holds one text (nearly always)."""

    ref: FieldRef
    other: FieldRef
    matcher: Matcher


@dataclass(frozen=True, slots=True)
class AllOf:
    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Node


Node = Call | Strings | Search | Presence | SameText | AllOf | AnyOf | Not

_AUTOMATON_FROM = 9
"""From this many ``contains`` values of one field, one Aho-Corasick pass (about a microsecond whatever
the count) beats a chain of ``in`` tests (a tenth of a microsecond each)."""


def cost(node: Node) -> int:
    """A rough relative price of evaluating ``node``, to try cheap tests first within ``and`` / ``or``."""
    if isinstance(node, Call):
        return node.cost
    if isinstance(node, Strings):
        strings = node.strings
        price = 1 if node.lowered else 3  # cased texts come through a method call
        if strings.contains:
            price += 3 if len(strings.contains) >= _AUTOMATON_FROM else len(strings.contains) // 3
        return price + len(strings.globs) + 10 * len(strings.regexes)
    if isinstance(node, Search):
        return 12
    if isinstance(node, Presence | SameText):
        return 2
    if isinstance(node, Not):
        return cost(node.part)
    return sum(cost(part) for part in node.parts)


# Helpers the generated code calls for the rare cases (a field with several texts, inner wildcards).
def _starts(texts: Sequence[str], prefixes: tuple[str, ...]) -> bool:
    return any(text.startswith(prefixes) for text in texts)


def _ends(texts: Sequence[str], suffixes: tuple[str, ...]) -> bool:
    return any(text.endswith(suffixes) for text in texts)


def _holds(texts: Sequence[str], needles: tuple[str, ...]) -> bool:
    return any(needle in text for text in texts for needle in needles)


def _globs(texts: Sequence[str], globs: tuple[Glob, ...]) -> bool:
    return any(glob_matches(text, glob) for text in texts for glob in globs)


def _fullmatches(texts: Sequence[str], regexes: tuple[Re2, ...]) -> bool:
    return any(regex.fullmatch(text) for text in texts for regex in regexes)


def _searches(texts: Sequence[str], search: Search) -> bool:
    for text in texts:
        if len(text) < search.shortest and text.isascii():
            continue
        if search.regex.search(text):
            return True
    return False


def _first_hit(automaton: Any, text: str) -> bool:
    for _ in automaton.iter(text):
        return True
    return False


_HELPERS: dict[str, object] = {
    "lowered": EventView.lowered,
    "texts": EventView.texts,
    "starts": _starts,
    "ends": _ends,
    "holds": _holds,
    "glob": glob_matches,
    "globs": _globs,
    "fullmatches": _fullmatches,
    "searches": _searches,
    "first_hit": _first_hit,
}


class _Writer:
    """Collects the constants and field locals of one function while writing its expression."""

    def __init__(self) -> None:
        self.constants: list[object] = []
        self._names: dict[object, str] = {}
        self._fields: dict[tuple[str, bool], int] = {}
        self.reads_lowered = False

    def field_number(self, dotted: str, lowered: bool) -> int:
        return self._fields.setdefault((dotted, lowered), len(self._fields))

    def const(self, value: object) -> str:
        # equal values (the same literal in two selections) share one name
        key: object = (type(value), value) if isinstance(value, str | tuple | frozenset) else id(value)
        name = self._names.get(key)
        if name is None:
            name = self._names[key] = f"c{len(self.constants)}"
            self.constants.append(value)
        return name

    def expression(self, node: Node, assigned: frozenset[str], indent: int) -> tuple[str, frozenset[str]]:
        """Python source for ``node`` and the field locals certainly assigned once it has run;
        ``assigned`` are those certainly assigned before it runs."""
        if isinstance(node, Call):
            return f"{self.const(node.matcher)}(view)", frozenset()
        if isinstance(node, Strings):
            return self._strings(node, assigned)
        if isinstance(node, Search):
            return self._search(node, assigned)
        if isinstance(node, Presence):
            return self._presence(node, assigned)
        if isinstance(node, SameText):
            return self._same_text(node, assigned)
        if isinstance(node, Not):
            inner, certain = self.expression(node.part, assigned, indent)
            return f"not {inner}", certain
        if not node.parts:
            return ("True" if isinstance(node, AllOf) else "False"), frozenset()
        joiner = " and" if isinstance(node, AllOf) else " or"
        lines: list[str] = []
        first: frozenset[str] = frozenset()
        for position, part in enumerate(node.parts):
            code, certain = self.expression(part, assigned, indent + 4)
            if position == 0:  # later parts may be skipped by short-circuiting; the first always runs
                first = certain
            assigned |= certain
            lines.append(code)
        pad = "\n" + " " * (indent + 4)
        return "(" + pad + (joiner + pad).join(lines) + "\n" + " " * indent + ")", first

    def _strings(self, node: Strings, assigned: frozenset[str]) -> tuple[str, frozenset[str]]:
        field = _FieldReads(self, node.ref, node.lowered, assigned)
        strings, single = node.strings, field.single_var
        tests: list[str] = []
        certain: list[frozenset[str]] = []  # what the first test, which always runs, reads

        def add(test: str) -> None:
            tests.append(test)
            if not certain:
                certain.append(frozenset(field.state))

        if strings.any_text:
            add(f"len({field.texts()}) > 0")
        if strings.exact:
            if len(strings.exact) == 1:
                add(f"{self.const(next(iter(strings.exact)))} in {field.texts()}")
            else:
                add(f"not {self.const(strings.exact)}.isdisjoint({field.texts()})")
        if strings.prefixes:
            test = f"{single}.startswith({self.const(strings.prefixes)})"
            add(field.per_text(test, "starts", strings.prefixes))
        if strings.suffixes:
            test = f"{single}.endswith({self.const(strings.suffixes)})"
            add(field.per_text(test, "ends", strings.suffixes))
        if strings.contains:
            add(field.per_text(self._contains(strings.contains, single), "holds", strings.contains))
        if strings.globs:
            test = " or ".join(f"glob({single}, {self.const(glob)})" for glob in strings.globs)
            add(field.per_text(f"({test})", "globs", strings.globs))
        if strings.regexes:
            add(f"fullmatches({field.texts()}, {self.const(strings.regexes)})")
        if not tests:
            return "False", assigned
        code = tests[0] if len(tests) == 1 else "(" + " or ".join(tests) + ")"
        return code, certain[0]

    def _search(self, node: Search, assigned: frozenset[str]) -> tuple[str, frozenset[str]]:
        field = _FieldReads(self, node.ref, False, assigned)
        single, search = field.single_var, self.const(node.regex.search)
        test = f"{search}({single})"
        if node.shortest > 1:
            # A regex without literals runs on every event of its route; each RE2 call costs about two
            # microseconds, a length test almost nothing. Only ASCII texts are skipped: RE2 reads UTF-8,
            # where a lone surrogate (possible in decoded JSON) is three bytes it may match as three
            # characters, so len() bounds what it matches only for ASCII.
            test = f"((len({single}) >= {self.const(node.shortest)} or not {single}.isascii()) and {test})"
        return field.per_text(test, "searches", node), frozenset(field.state)

    def _presence(self, node: Presence, assigned: frozenset[str]) -> tuple[str, frozenset[str]]:
        # A field with a text has a value; only a field without one needs the raw lookup (objects count).
        field = _FieldReads(self, node.ref, True, assigned)
        call = f"{self.const(node.matcher)}(view)"
        if node.present:
            return f"(len({field.texts()}) > 0 or {call})", frozenset(field.state)
        return f"(len({field.texts()}) == 0 and {call})", frozenset(field.state)

    def _same_text(self, node: SameText, assigned: frozenset[str]) -> tuple[str, frozenset[str]]:
        mine = _FieldReads(self, node.ref, True, assigned)
        head = mine.single()
        certain = frozenset(mine.state)  # the second field is read only when the first has one text
        theirs = _FieldReads(self, node.other, True, certain)
        both = f"{head} is not None and {theirs.single()} is not None"
        general = f"{self.const(node.matcher)}(view)"
        return f"({mine.single_var} == {theirs.single_var} if {both} else {general})", certain

    def _contains(self, needles: tuple[str, ...], text: str) -> str:
        if len(needles) >= _AUTOMATON_FROM and all(needles):
            automaton = ahocorasick.Automaton()
            for needle in needles:
                automaton.add_word(needle, needle)
            automaton.make_automaton()
            return f"first_hit({self.const(automaton)}, {text})"
        tests = [f"{self.const(needle)} in {text}" for needle in needles]
        return tests[0] if len(tests) == 1 else "(" + " or ".join(tests) + ")"


class _FieldReads:
    """How one leaf reads its field: ``f<n>`` holds the field's texts (a tuple), ``g<n>`` its one text or
    None (no text, or several). The first read in the function assigns them; a later leaf reuses them when
    short-circuiting cannot have skipped that read (``state``: the locals certainly assigned so far)."""

    def __init__(self, writer: _Writer, ref: FieldRef, lowered: bool, assigned: frozenset[str]) -> None:
        number = writer.field_number(ref.dotted, lowered)
        self.texts_var, self.single_var = f"f{number}", f"g{number}"
        self.state = set(assigned)
        self._writer, self._ref, self._lowered = writer, ref, lowered

    def texts(self) -> str:
        var, writer = self.texts_var, self._writer
        if var in self.state:
            return var
        self.state.add(var)
        ref = writer.const(self._ref)
        if not self._lowered:
            return f"({var} := texts(view, {ref}))"
        writer.reads_lowered = True  # the pre-filter has usually lowered the field already: no call
        found = f"({var} := known({writer.const(self._ref.dotted)}))"
        return f"({var} if {found} is not None else ({var} := lowered(view, {ref})))"

    def single(self) -> str:
        if self.single_var in self.state:
            return self.single_var
        read = self.texts()
        self.state.add(self.single_var)
        return f"({self.single_var} := {self.texts_var}[0] if len({read}) == 1 else None)"

    def per_text(self, test: str, helper: str, argument: object) -> str:
        """``test`` of the one text inline (nearly every field holds one); lists and absent fields go
        through ``helper(texts, argument)``."""
        head, texts = self.single(), self.texts_var
        rest = f"len({texts}) > 1 and {helper}({texts}, {self._writer.const(argument)})"
        return f"({test} if {head} is not None else ({rest}))"


@functools.lru_cache(maxsize=4096)
def _factory(source: str) -> Callable[..., Matcher]:
    """The factory ``source`` defines. Cached: rules of the same shape (say, an ``endswith`` list and a
    ``contains`` list) have the same source, constants aside, and compile() is most of a load's cost."""
    namespace: dict[str, Any] = {}
    exec(compile(source, "<sigma rule>", "exec"), namespace)  # noqa: S102 (source written above)
    factory: Callable[..., Matcher] = namespace["make"]
    return factory


def build_matcher(node: Node) -> Matcher:
    """Compile ``node`` into one function of the view; :class:`RuleCompileError` if Python cannot."""
    writer = _Writer()
    body, _ = writer.expression(node, frozenset(), 8)
    constants = ", ".join(f"c{number}" for number in range(len(writer.constants)))
    known = "        known = view.lowered_texts.get\n" if writer.reads_lowered else ""
    source = (
        f"def make({', '.join(_HELPERS)}{', ' if constants else ''}{constants}):\n"
        "    def rule_matches(view):\n"
        f"{known}"
        f"        return {body}\n"
        "    return rule_matches\n"
    )
    try:
        make = _factory(source)
    except (SyntaxError, RecursionError, MemoryError) as error:
        raise RuleCompileError(f"condition too complex to compile: {type(error).__name__}") from None
    matcher: Matcher = make(*_HELPERS.values(), *writer.constants)
    matcher.__dict__["source"] = source
    matcher.__dict__["constants"] = tuple(writer.constants)
    return matcher


def source_of(matcher: Matcher) -> str:
    """The generated source of a rule's matcher, followed by its constants ("" for other callables)."""
    source = getattr(matcher, "__dict__", {}).get("source")
    if source is None:
        return ""
    constants = matcher.__dict__["constants"]
    legend = "".join(f"# c{number} = {value!r}\n" for number, value in enumerate(constants))
    return str(source) + legend
