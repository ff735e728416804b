"""Literal pre-filter: one Aho-Corasick pass per field rules out most rules of a route before matching.

Each rule's ``requirement`` lists (field, literal) pairs of which every matching event contains at least
one (see :mod:`collector.detection.conditions`). Per route and field, one automaton maps every literal to
the bitmask of rules needing it; an event's candidates are the rules without a requirement plus those
whose literal occurs in the lower-cased field text. The pre-filter may let through rules that then fail
to match, never the reverse.
"""

from __future__ import annotations

from collections.abc import Sequence

import ahocorasick

from collector.detection.event_view import EventView, FieldRef
from collector.detection.model import CompiledRule


class RouteIndex:
    """The rules of one route, in load order, with their literal automata. Immutable after construction."""

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        self.rules = tuple(rules)
        self._always = 0
        literals_by_field: dict[str, dict[str, int]] = {}
        for position, rule in enumerate(self.rules):
            bit = 1 << position
            if rule.requirement is None:
                self._always |= bit
                continue
            for field_name, literal in rule.requirement:
                masks = literals_by_field.setdefault(field_name, {})
                masks[literal] = masks.get(literal, 0) | bit
        self._automata: list[tuple[FieldRef, ahocorasick.Automaton]] = []
        for field_name, masks in sorted(literals_by_field.items()):
            automaton = ahocorasick.Automaton()
            for literal, mask in masks.items():
                automaton.add_word(literal, mask)
            automaton.make_automaton()
            self._automata.append((FieldRef(field_name), automaton))

    @property
    def prefiltered_count(self) -> int:
        return sum(1 for rule in self.rules if rule.requirement is not None)

    def candidates(self, view: EventView) -> list[CompiledRule]:
        mask = self._always
        for ref, automaton in self._automata:
            for text in view.lowered(ref):
                for _, literal_mask in automaton.iter(text):
                    mask |= literal_mask
        rules = self.rules
        selected = []
        while mask:
            lowest = mask & -mask
            selected.append(rules[lowest.bit_length() - 1])
            mask ^= lowest
        return selected
