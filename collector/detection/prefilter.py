"""Literal pre-filter: one pass per field rules out most rules of a route before matching.

Each rule's requirement is a few clauses of (field, literal) pairs (see
:mod:`collector.detection.requirements`). Per route, every distinct clause gets a bit; per field, the
literals map to the bits of the clauses containing them, and one Aho-Corasick pass over the event's
lower-cased field text (plain ``in`` tests when a field has only a few literals) yields the satisfied
clauses. A rule is a candidate when all its clauses are satisfied; rules are filed under their most
selective clause so only rules whose first clause was hit are examined. The pre-filter may let through
rules that then fail to match, never the reverse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import reduce
from operator import itemgetter, or_

import ahocorasick

from collector.detection.event_view import EventView, FieldRef
from collector.detection.model import CompiledRule
from collector.detection.requirements import UNKNOWN, Clause

Scanner = Callable[[str], int]
"""Lower-cased text -> bits of the clauses whose literal for this field occurs in it."""

_mask_of_hit = itemgetter(1)  # Aho-Corasick hits are (end index, mask)
_FEW_LITERALS = 6  # below this, `literal in text` per literal beats building an automaton iterator


def _scanner(masks: dict[str, int]) -> Scanner:
    if len(masks) < _FEW_LITERALS:
        pairs = tuple(masks.items())

        def scan_few(text: str) -> int:
            satisfied = 0
            for literal, mask in pairs:
                if literal in text:
                    satisfied |= mask
            return satisfied

        return scan_few
    automaton = ahocorasick.Automaton()
    for literal, mask in masks.items():
        automaton.add_word(literal, mask)
    automaton.make_automaton()
    iterate = automaton.iter

    def scan_many(text: str) -> int:
        # Short literals hit many times per text: collect the distinct masks in C (set over map),
        # then OR those few, instead of a bytecode loop over every hit.
        return reduce(or_, set(map(_mask_of_hit, iterate(text))), 0)

    return scan_many


class RouteIndex:
    """The rules of one route, in load order, with their literal scanners. Immutable after construction."""

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        self.rules = tuple(rules)
        always: list[int] = []
        clause_bits: dict[Clause, int] = {}
        # anchor clause bit -> (rule position, bits of all the rule's clauses)
        self._by_anchor: dict[int, list[tuple[int, int]]] = {}
        for position, rule in enumerate(self.rules):
            if rule.requirement == UNKNOWN:
                always.append(position)
                continue
            needed = 0
            for clause in rule.requirement:
                needed |= clause_bits.setdefault(clause, 1 << len(clause_bits))
            anchor = clause_bits[rule.requirement[0]]
            self._by_anchor.setdefault(anchor, []).append((position, needed))
        literals_by_field: dict[str, dict[str, int]] = {}
        for clause, bit in clause_bits.items():
            for field_name, literal in clause:
                masks = literals_by_field.setdefault(field_name, {})
                masks[literal] = masks.get(literal, 0) | bit
        self._always_positions = tuple(always)
        self._always_rules = tuple(self.rules[position] for position in always)
        self._anchors = sum(self._by_anchor)
        self._scanners = tuple(
            (FieldRef(field_name), _scanner(masks)) for field_name, masks in sorted(literals_by_field.items())
        )

    @property
    def prefiltered_count(self) -> int:
        return len(self.rules) - len(self._always_positions)

    def candidates(self, view: EventView) -> Sequence[CompiledRule]:
        satisfied = 0
        lowered = view.lowered
        for ref, scan in self._scanners:
            for text in lowered(ref):
                satisfied |= scan(text)
        anchors = satisfied & self._anchors
        if not anchors:
            return self._always_rules
        positions = list(self._always_positions)
        while anchors:
            lowest = anchors & -anchors
            for position, needed in self._by_anchor[lowest]:
                if needed & satisfied == needed:
                    positions.append(position)
            anchors ^= lowest
        positions.sort()
        return [self.rules[position] for position in positions]
