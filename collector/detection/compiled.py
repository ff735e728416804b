"""A compiled condition: its matcher and the literals it requires; and the boolean combinators."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from collector.detection import requirements
from collector.detection.event_view import EventView
from collector.detection.requirements import Requirement

Matcher = Callable[[EventView], bool]


@dataclass(frozen=True, slots=True)
class Compiled:
    matcher: Matcher
    requirement: Requirement


def _never(_: EventView) -> bool:
    return False


def any_of(parts: Sequence[Compiled]) -> Compiled:
    requirement = requirements.any_of([part.requirement for part in parts])
    if not parts:
        return Compiled(_never, requirement)
    if len(parts) == 1:
        return parts[0]
    matchers = tuple(part.matcher for part in parts)

    def any_matches(view: EventView) -> bool:
        # A plain loop: any() over a generator costs a frame per call on this hot path.
        for matcher in matchers:  # noqa: SIM110
            if matcher(view):
                return True
        return False

    return Compiled(any_matches, requirement)


def all_of(parts: Sequence[Compiled]) -> Compiled:
    if len(parts) == 1:
        return parts[0]
    # Cheap, selective tests (those with literals) first, so most events stop at the first one.
    ordered = sorted(parts, key=lambda part: part.requirement == requirements.UNKNOWN)
    matchers = tuple(part.matcher for part in ordered)

    def all_match(view: EventView) -> bool:
        for matcher in matchers:  # noqa: SIM110 (see any_of)
            if not matcher(view):
                return False
        return True

    return Compiled(all_match, requirements.all_of([part.requirement for part in parts]))


def negate(part: Compiled) -> Compiled:
    inner = part.matcher
    return Compiled(lambda view: not inner(view), requirements.UNKNOWN)
