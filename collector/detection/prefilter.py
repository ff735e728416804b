"""Literal pre-filter: one pass per field rules out most rules of a route before matching.

Each rule's requirement is a few clauses of (field, literal, how) tests (see
:mod:`collector.detection.requirements`). Per route, every distinct clause gets a small integer id; per
field, the literals map to the ids of the clauses containing them. For each of the event's lower-cased
field texts, one dict lookup finds the clauses it satisfies by equality (values a rule compares whole),
and one Aho-Corasick pass (plain ``in`` tests when a field has only a few literals) those it satisfies by
containing a literal. A rule is a candidate when all its clauses are satisfied; rules are filed under
their most selective clause so only rules whose first clause was hit are examined. The pre-filter may let
through rules that then fail to match, never the reverse.

The per-event stage runs in one call into the Rust extension ``_prefilter_native`` (built from
``native/`` when cargo is present) over the same tables; without it, or for an event it declines (not a
plain dict, text that is not valid UTF-8), the Python scan below does the same work.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any

import ahocorasick

from collector.detection.event_view import EventView, FieldRef
from collector.detection.model import CompiledRule
from collector.detection.requirements import CONTAINS, EQUALS, UNKNOWN, Clause

try:
    from collector.detection._prefilter_native import NativeIndex

    NATIVE_AVAILABLE = True
except ImportError:  # installed without cargo: the Python scan serves alone
    NATIVE_AVAILABLE = False

use_native = NATIVE_AVAILABLE
"""Whether a RouteIndex built without ``native=`` uses the extension (tests run both implementations)."""

Scanner = Callable[[str, set[int]], None]
"""Adds to the set the ids of the clauses that one lower-cased text of this field satisfies."""
_Field = tuple[str, FieldRef, str | None, Scanner, Callable[[str], tuple[int, ...] | None] | None]
"""(name under the parent, reference, flat dotted key or None, scanner, equality lookup when that is all)."""

_clauses_of_hit = itemgetter(1)  # Aho-Corasick hits are (end index, the literal's clause ids)
_FEW_LITERALS = 6  # below this, `literal in text` per literal beats building an automaton iterator
_SHORT = 2  # literals this short occur many times in a text...
_MANY_SHORT = 5  # ...and a field with this many of them gets the scan built for many hits per text
_WEAK = 2  # see _weak()


def _by_letter_frequency(literals: Iterable[str]) -> Callable[[str], list[int]]:
    """Sort key putting literals made of frequent letters first. pyahocorasick keeps a trie node's children
    in insertion order and searches them one by one (one child node, often one cache miss, per step) for
    every letter of every text; inserted in this order, the letters texts are mostly made of come first.
    The literals' own letters stand for the texts' (they are cut from such texts)."""
    counts = Counter(letter for literal in literals for letter in literal)
    rank = {letter: position for position, (letter, _) in enumerate(counts.most_common())}
    return lambda literal: [rank[letter] for letter in literal]


def _weak(clause: Clause) -> bool:
    """A clause satisfied by one- or two-character text ("-", "/c", ":") rules out almost no event, yet
    its literals hit many times per text and enlarge the satisfied set every event. Unless it is a rule's
    anchor, such a clause is left to the rule's own matcher (leaving a clause out only lets more through).
    Short non-ASCII literals (SigmaHQ's lists of look-alike or invisible characters) rarely occur in event
    text, so a clause of those rules events out and stays (Windows worst case: 6.44 -> 6.35 candidate
    rules per event)."""
    return any(len(literal) <= _WEAK and literal.isascii() and how == CONTAINS for _, literal, how in clause)


def _scanner(contained: dict[str, tuple[int, ...]], equal: dict[str, tuple[int, ...]]) -> Scanner:
    """One field's test: a dict lookup of the whole text for :data:`EQUALS` literals (no scan at all), and
    substring search for the :data:`CONTAINS` ones."""
    whole = equal.get
    if not contained:

        def scan_equal(text: str, satisfied: set[int]) -> None:
            hit = whole(text)
            if hit is not None:
                satisfied.update(hit)

        return scan_equal
    if len(contained) < _FEW_LITERALS:
        pairs = tuple(contained.items())

        def scan_few(text: str, satisfied: set[int]) -> None:
            if equal:
                hit = whole(text)
                if hit is not None:
                    satisfied.update(hit)
            for literal, clauses in pairs:
                if literal in text:
                    satisfied.update(clauses)

        return scan_few
    automaton = ahocorasick.Automaton()
    for literal in sorted(contained, key=_by_letter_frequency(contained)):
        automaton.add_word(literal, contained[literal])
    automaton.make_automaton()
    iterate = automaton.iter
    if sum(len(literal) <= _SHORT for literal in contained) < _MANY_SHORT:

        def scan_many(text: str, satisfied: set[int]) -> None:
            if equal:
                hit = whole(text)
                if hit is not None:
                    satisfied.update(hit)
            # Few hits per text (executable paths, parent names): a plain loop over them costs less
            # than building the objects that the bulk path below needs.
            for _, clauses in iterate(text):
                satisfied.update(clauses)

        return scan_many

    def scan_hits_in_bulk(text: str, satisfied: set[int]) -> None:
        if equal:
            hit = whole(text)
            if hit is not None:
                satisfied.update(hit)
        # Short literals ("-", "/c", " ") hit many times per command line: the distinct hits (each the
        # tuple of its clause ids) are collected and added in C, so no bytecode runs per hit.
        satisfied.update(*set(map(_clauses_of_hit, iterate(text))))

    return scan_hits_in_bulk


class RouteIndex:
    """The rules of one route, in load order, with their literal scanners. Immutable after construction."""

    def __init__(self, rules: Sequence[CompiledRule], *, native: bool | None = None) -> None:
        """``native``: use the Rust extension (default :data:`use_native`); ValueError if it is not built."""
        if native is None:
            native = use_native
        if native and not NATIVE_AVAILABLE:
            raise ValueError("the native pre-filter extension is not built (cargo was absent at install)")
        self.rules = tuple(rules)
        always: list[int] = []
        clause_ids: dict[Clause, int] = {}
        # anchor clause id -> (positions of rules needing only it, (position, ids of the rule's other
        # clauses) for the others)
        filed: dict[int, tuple[list[int], list[tuple[int, frozenset[int]]]]] = {}
        for position, rule in enumerate(self.rules):
            if rule.requirement == UNKNOWN:
                always.append(position)
                continue
            first, *others = rule.requirement
            anchor = clause_ids.setdefault(first, len(clause_ids))
            rest = frozenset(
                clause_ids.setdefault(clause, len(clause_ids)) for clause in others if not _weak(clause)
            ) - {anchor}
            alone, guarded = filed.setdefault(anchor, ([], []))
            if rest:
                guarded.append((position, rest))
            else:
                alone.append(position)
        # field -> how (CONTAINS / EQUALS) -> literal -> ids of the clauses with that test
        literals_by_field: dict[str, dict[str, dict[str, list[int]]]] = {}
        for clause, number in clause_ids.items():
            for field_name, literal, how in clause:
                by_how = literals_by_field.setdefault(field_name, {CONTAINS: {}, EQUALS: {}})
                by_how[how].setdefault(literal, []).append(number)
        self._filed = {anchor: (tuple(alone), tuple(guarded)) for anchor, (alone, guarded) in filed.items()}
        self._anchors = frozenset(filed)
        self._always_positions = tuple(always)
        self._always_rules = tuple(self.rules[position] for position in always)
        # field -> (CONTAINS literals, EQUALS literals), each literal -> the ids of its clauses
        self._literals = {
            field_name: tuple(
                {literal: tuple(ids) for literal, ids in by_how[how].items()} for how in (CONTAINS, EQUALS)
            )
            for field_name, by_how in sorted(literals_by_field.items())
        }
        self._python_groups: tuple[tuple[tuple[str, ...], tuple[_Field, ...]], ...] | None = None
        self._native = self._native_index(len(clause_ids)) if native else None

    @property
    def native(self) -> bool:
        return self._native is not None

    def _native_index(self, clause_count: int) -> NativeIndex | None:
        """The Rust index over these tables; None (the Python scan) for a literal that is not UTF-8."""
        try:
            return NativeIndex(
                [
                    (
                        list(parent),
                        [(ref.parts[-1], flat, ref, *self._literal_lists(ref)) for ref, flat in fields],
                    )
                    for parent, fields in self._field_groups().items()
                ],
                [
                    (anchor, list(alone), [(p, sorted(rest)) for p, rest in guarded])
                    for anchor, (alone, guarded) in self._filed.items()
                ],
                list(self._always_positions),
                list(self.rules),
                clause_count,
            )
        except UnicodeEncodeError:  # a lone surrogate: YAML refuses them, a rule built in code may not
            return None

    def _field_groups(self) -> dict[tuple[str, ...], list[tuple[FieldRef, str | None]]]:
        """Fields grouped by their parent path ((), ("process",), ("process", "parent"), ...), so each
        parent object is looked up once per event, not once per field under it; with each, the flat dotted
        key a nested field may also be sent as (a top-level one was just read)."""
        groups: dict[tuple[str, ...], list[tuple[FieldRef, str | None]]] = {}
        for field_name in self._literals:
            ref = FieldRef(field_name)
            groups.setdefault(ref.parts[:-1], []).append((ref, field_name if len(ref.parts) > 1 else None))
        return groups

    def _literal_lists(
        self, ref: FieldRef
    ) -> tuple[list[tuple[str, list[int]]], list[tuple[str, list[int]]]]:
        contained, equal = self._literals[ref.dotted]
        return (
            [(literal, list(ids)) for literal, ids in contained.items()],
            [(literal, list(ids)) for literal, ids in equal.items()],
        )

    def _groups(self) -> tuple[tuple[tuple[str, ...], tuple[_Field, ...]], ...]:
        """The Python scanners, built on first use: with the extension, only events it declines need them
        (a race between threads builds them twice, harmlessly)."""
        groups = self._python_groups
        if groups is None:
            groups = self._python_groups = tuple(
                (parent, tuple(self._python_field(ref, flat) for ref, flat in fields))
                for parent, fields in self._field_groups().items()
            )
        return groups

    def _python_field(self, ref: FieldRef, flat: str | None) -> _Field:
        contained, equal = self._literals[ref.dotted]
        # a field with equalities only is looked up inline, with no call
        return (ref.parts[-1], ref, flat, _scanner(contained, equal), None if contained else equal.get)

    @property
    def prefiltered_count(self) -> int:
        return len(self.rules) - len(self._always_positions)

    def candidates(self, view: EventView) -> Sequence[CompiledRule]:
        if self._native is not None:
            found = self._native.candidates(view)
            if found is not None:
                return found
        return self._python_candidates(view)

    def _python_candidates(self, view: EventView) -> Sequence[CompiledRule]:
        # Clause ids in a set, not bits of one wide integer: a route of a thousand rules has thousands of
        # clauses, and every OR or AND of such integers costs time in proportion to all of them.
        satisfied: set[int] = set()
        event = view.event
        known = view.lowered_texts
        for parent_parts, fields in self._groups():
            # EventView.lowered's plain-dict, plain-string path inlined (one call per field saved); any
            # other shape (lists, numbers, flat dotted keys) takes the general path, lowered().
            node: Any = event
            for part in parent_parts:
                if type(node) is not dict:
                    break
                node = node.get(part)
                if node is None:
                    break
            if type(node) is dict:
                for name, ref, flat, scan, whole in fields:
                    value = node.get(name)
                    if type(value) is str:
                        text = value.lower()
                        known[ref.dotted] = (text,)
                        if whole is None:
                            scan(text, satisfied)
                        else:
                            hit = whole(text)
                            if hit is not None:
                                satisfied.update(hit)
                    elif value is not None or (flat is not None and flat in event):  # else absent
                        for text in view.lowered(ref):
                            scan(text, satisfied)
                continue
            for _, ref, flat, scan, _ in fields:  # the parent is absent, null or not a plain dict
                if node is not None or (flat is not None and flat in event):
                    for text in view.lowered(ref):
                        scan(text, satisfied)
        anchors = self._anchors & satisfied
        if not anchors:
            return self._always_rules
        positions = [*self._always_positions]
        filed = self._filed
        for anchor in anchors:
            alone, guarded = filed[anchor]
            positions += alone
            for position, rest in guarded:
                if rest <= satisfied:
                    positions.append(position)
        positions.sort()
        return list(map(self.rules.__getitem__, positions))
