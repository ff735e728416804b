"""A compiled condition: its tree (see :mod:`collector.detection.rule_code`) and the literals it
requires; and the boolean combinators, which also choose the order siblings are tried in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from collector.detection import requirements
from collector.detection.requirements import Requirement
from collector.detection.rule_code import AllOf, AnyOf, Matcher, Node, Not, build_matcher, cost

__all__ = ["Compiled", "Matcher", "all_of", "any_of", "negate"]


@dataclass(frozen=True, slots=True)
class Compiled:
    node: Node
    requirement: Requirement

    @property
    def matcher(self) -> Matcher:
        """The condition as one generated function (compiled on each access: keep the result)."""
        return build_matcher(self.node)


def any_of(parts: Sequence[Compiled]) -> Compiled:
    requirement = requirements.any_of([part.requirement for part in parts])
    if len(parts) == 1:
        return parts[0]
    nodes: list[Node] = []
    for part in parts:  # (a or b) or c is a or b or c: one flat test list
        nodes.extend(part.node.parts if isinstance(part.node, AnyOf) else (part.node,))
    # Nothing tells which alternative is likely: the cheapest go first.
    return Compiled(AnyOf(tuple(sorted(nodes, key=cost))), requirement)


def all_of(parts: Sequence[Compiled]) -> Compiled:
    if len(parts) == 1:
        return parts[0]
    # Selective tests (those with literals) first, so most events stop at the first one; then the other
    # positive tests, which are likely false too, before the negated ones (filters, rarely matching, so
    # their negation is likely true); cheap ones first within each group.
    ordered = sorted(
        parts,
        key=lambda part: (
            part.requirement == requirements.UNKNOWN,
            isinstance(part.node, Not),
            cost(part.node),
        ),
    )
    nodes: list[Node] = []
    for part in ordered:
        nodes.extend(part.node.parts if isinstance(part.node, AllOf) else (part.node,))
    return Compiled(AllOf(tuple(nodes)), requirements.all_of([part.requirement for part in parts]))


def negate(part: Compiled) -> Compiled:
    node = part.node
    return Compiled(node.part if isinstance(node, Not) else Not(node), requirements.UNKNOWN)
