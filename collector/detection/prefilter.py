"""Literal pre-filter: one Aho-Corasick pass per field rules out most rules of a route before matching.

Each rule's requirement is a few clauses of (field, literal) pairs (see
:mod:`collector.detection.requirements`). Per route, every distinct clause gets a bit, and per field one
automaton maps each literal to the bits of the clauses containing it; one pass over an event's lower-cased
field texts yields the satisfied clauses. A rule is a candidate when all its clauses are satisfied; rules
are filed under their most selective clause so only rules whose first clause was hit are examined. The
pre-filter may let through rules that then fail to match, never the reverse.
"""

from __future__ import annotations

from collections.abc import Sequence

import ahocorasick

from collector.detection.event_view import EventView, FieldRef
from collector.detection.model import CompiledRule
from collector.detection.requirements import UNKNOWN, Clause


class RouteIndex:
    """The rules of one route, in load order, with their literal automata. Immutable after construction."""

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        self.rules = tuple(rules)
        self._always: list[int] = []
        clause_bits: dict[Clause, int] = {}
        # anchor clause bit -> (rule position, bits of all the rule's clauses)
        self._by_anchor: dict[int, list[tuple[int, int]]] = {}
        for position, rule in enumerate(self.rules):
            if rule.requirement == UNKNOWN:
                self._always.append(position)
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
        self._anchors = sum(self._by_anchor)
        self._automata: list[tuple[FieldRef, ahocorasick.Automaton]] = []
        for field_name, masks in sorted(literals_by_field.items()):
            automaton = ahocorasick.Automaton()
            for literal, mask in masks.items():
                automaton.add_word(literal, mask)
            automaton.make_automaton()
            self._automata.append((FieldRef(field_name), automaton))

    @property
    def prefiltered_count(self) -> int:
        return len(self.rules) - len(self._always)

    def candidates(self, view: EventView) -> list[CompiledRule]:
        satisfied = 0
        for ref, automaton in self._automata:
            for text in view.lowered(ref):
                for _, clause_mask in automaton.iter(text):
                    satisfied |= clause_mask
        positions = list(self._always)
        anchors = satisfied & self._anchors
        while anchors:
            lowest = anchors & -anchors
            for position, needed in self._by_anchor[lowest]:
                if needed & satisfied == needed:
                    positions.append(position)
            anchors ^= lowest
        if len(positions) > 1:
            positions.sort()
        return [self.rules[position] for position in positions]
