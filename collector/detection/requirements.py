"""Necessary literals of a condition, in conjunctive normal form, for the pre-filter.

A :data:`Requirement` is a tuple of clauses; a clause is a set of :data:`Pair` tests (field, lower-cased
literal, how). An event can match only if, for every clause, the lower-cased text of some pair's field
contains its literal (:data:`CONTAINS`) or, for a value the rule compares whole, is its literal
(:data:`EQUALS`: ``process.name: whoami`` needs no substring scan, a hash lookup answers it). ``()``
knows nothing (always evaluate); a clause that is empty can never be satisfied (the condition can never
match). Only the most selective few clauses are kept: each one costs a check per candidate event, and two
or three already rule out nearly all non-matching events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import product

CONTAINS = "contains"
EQUALS = "equals"
Pair = tuple[str, str, str]
"""(field, lower-cased literal, :data:`CONTAINS` or :data:`EQUALS`)."""
Clause = frozenset[Pair]
Requirement = tuple[Clause, ...]

UNKNOWN: Requirement = ()
NEVER: Requirement = (frozenset(),)
MAX_CLAUSES = 3
_MAX_CROSS_PRODUCT = 9


def literal_clause(field_name: str, literals: Iterable[str], equals: Iterable[str] = ()) -> Requirement:
    """The field contains one of ``literals`` or is one of ``equals`` (all lower-cased); UNKNOWN if any
    is empty (an empty literal rules nothing out)."""
    contained, whole = list(literals), list(equals)
    if any(not literal for literal in contained + whole):
        return UNKNOWN
    pairs = [(field_name, literal, CONTAINS) for literal in contained]
    pairs += [(field_name, literal, EQUALS) for literal in whole]
    return (frozenset(pairs),)


def selectivity(clause: Clause) -> tuple[int, int]:
    """Longer shortest literal first (a literal like "/" occurs in nearly every event), then fewer
    alternatives; the empty clause, which nothing satisfies, ranks first."""
    if not clause:
        return (1 << 30, 0)
    return (min(len(literal) for _, literal, _ in clause), -len(clause))


def _best(clauses: Iterable[Clause]) -> Requirement:
    unique = list(dict.fromkeys(clauses))
    return tuple(sorted(unique, key=selectivity, reverse=True)[:MAX_CLAUSES])


def all_of(requirements: Sequence[Requirement]) -> Requirement:
    return _best(clause for requirement in requirements for clause in requirement)


def any_of(requirements: Sequence[Requirement]) -> Requirement:
    if not requirements:
        return NEVER
    if any(requirement == UNKNOWN for requirement in requirements):
        return UNKNOWN
    size = 1
    for requirement in requirements:
        size *= len(requirement)
    if size <= _MAX_CROSS_PRODUCT:  # (a1 & a2) | b  ==  (a1 | b) & (a2 | b)
        return _best(frozenset().union(*combination) for combination in product(*requirements))
    return (frozenset().union(*(requirement[0] for requirement in requirements)),)
