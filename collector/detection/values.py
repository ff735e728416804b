"""Sigma values bound to one field, compiled into matchers over an :class:`EventView`.

String values also yield the literals the pre-filter needs (see :mod:`collector.detection.requirements`);
regexes, numbers, CIDRs and the like yield none.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import Any

from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SigmaType,
    TimestampPart,
)

from collector.detection import requirements
from collector.detection.compiled import Compiled, Matcher, any_of
from collector.detection.errors import RuleCompileError
from collector.detection.event_view import EventView, FieldRef
from collector.detection.regex import compile_re2
from collector.detection.regex_literals import minimum_length, required_runs
from collector.detection.requirements import UNKNOWN, literal_clause
from collector.detection.rule_code import Call, Presence, SameText, Search, Strings
from collector.detection.string_patterns import Shape, StringPattern, StringSet, to_pattern

Placeholders = Mapping[str, Sequence[str]]


_REGEX_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}
_COMPARE = {
    CompareOperators.LT: operator.lt,
    CompareOperators.LTE: operator.le,
    CompareOperators.GT: operator.gt,
    CompareOperators.GTE: operator.ge,
    CompareOperators.NEQ: operator.ne,
}


def expand_placeholders(values: Sequence[SigmaType], placeholders: Placeholders) -> list[SigmaType]:
    """Replace ``%name%`` stubs left by ``|expand`` with the configured values (OR-linked)."""

    def replacements(placeholder: Placeholder) -> Iterator[str]:
        if placeholder.name not in placeholders:
            raise RuleCompileError(f"placeholder %{placeholder.name}% has no configured values")
        yield from placeholders[placeholder.name]

    out: list[SigmaType] = []
    for value in values:
        if isinstance(value, SigmaExpansion):
            out.append(SigmaExpansion(expand_placeholders(value.values, placeholders)))
        elif isinstance(value, SigmaString) and value.contains_placeholder():
            expanded = value.replace_placeholders(replacements)
            if isinstance(value, SigmaCasedString):
                expanded = [SigmaCasedString.from_sigma_string(item) for item in expanded]
            out.extend(expanded)
        elif isinstance(value, SigmaRegularExpression) and value.contains_placeholder():
            out.extend(value.replace_placeholders(replacements))
        else:
            out.append(value)
    return out


def _flatten(values: Sequence[SigmaType]) -> list[SigmaType]:
    """Expansions (base64offset, windash) are OR-linked whatever links the list around them."""
    flat: list[SigmaType] = []
    for value in values:
        flat.extend(_flatten(value.values) if isinstance(value, SigmaExpansion) else [value])
    return flat


def compile_any_of(ref: FieldRef, values: Sequence[SigmaType], placeholders: Placeholders) -> Compiled:
    """Field ``ref`` matches at least one of ``values`` (the OR list a Sigma detection item means)."""
    flat = _flatten(expand_placeholders(values, placeholders))
    folded: list[StringPattern] = []
    cased: list[StringPattern] = []
    others: list[Compiled] = []
    for value in flat:
        if isinstance(value, SigmaString):
            pattern = to_pattern(value)
            (cased if pattern.cased else folded).append(pattern)
        else:
            others.append(_compile_other(ref, value))
    parts: list[Compiled] = []
    if folded:
        parts.append(_string_set(ref, folded, lowered=True))
    if cased:
        parts.append(_string_set(ref, cased, lowered=False))
    searches = [part for part in others if isinstance(part.node, Search)]
    if len(searches) > 1:
        others = [part for part in others if not isinstance(part.node, Search)] + _one_search(ref, searches)
    parts.extend(others)
    return any_of(parts)


def _one_search(ref: FieldRef, searches: list[Compiled]) -> list[Compiled]:
    """Several ``|re`` values of one field as one alternation: one RE2 call (about a microsecond whatever
    the pattern) instead of one per value. Each keeps its flags, which RE2 scopes to the group."""
    nodes = [part.node for part in searches if isinstance(part.node, Search)]
    try:
        regex = compile_re2("|".join(f"(?:{node.regex.pattern})" for node in nodes))
    except RuleCompileError:  # too large together (RE2's memory budget): keep them apart
        return searches
    requirement = requirements.any_of([part.requirement for part in searches])
    return [Compiled(Search(ref, regex, min(node.shortest for node in nodes)), requirement)]


def _string_set(ref: FieldRef, patterns: list[StringPattern], *, lowered: bool) -> Compiled:
    # A whole-value pattern is a lower-cased equality for the pre-filter (the folded matcher's own test;
    # a cased text equal to the value lowers to the value lowered); the others need their literal inside.
    whole = [p for p in patterns if p.shape is Shape.EXACT]
    equals = [p.literal.lower() if p.cased else p.literal for p in whole]
    contained = [p.required_literal for p in patterns if p.shape is not Shape.EXACT]
    requirement = literal_clause(ref.dotted, contained, equals)
    return Compiled(Strings(ref, StringSet(patterns), lowered), requirement)


def _compile_other(ref: FieldRef, value: SigmaType) -> Compiled:
    if isinstance(value, SigmaNull):
        return Compiled(Presence(ref, False, lambda view: not view.values(ref)), UNKNOWN)
    if isinstance(value, SigmaExists):
        if value.exists:
            return Compiled(Presence(ref, True, lambda view: bool(view.values(ref))), UNKNOWN)
        return Compiled(Presence(ref, False, lambda view: not view.values(ref)), UNKNOWN)
    if isinstance(value, SigmaRegularExpression):
        flags = "".join(sorted(_REGEX_FLAGS[flag] for flag in value.flags))
        regex = compile_re2((f"(?{flags})" if flags else "") + str(value.regexp))
        # every mandatory run is required at once; all_of keeps the most selective few
        runs = [literal_clause(ref.dotted, run) for run in required_runs(regex.pattern)]
        requirement = requirements.all_of(runs) if runs else UNKNOWN
        return Compiled(Search(ref, regex, minimum_length(regex.pattern)), requirement)
    if isinstance(value, SigmaCIDRExpression):
        network = value.network
        return Compiled(Call(lambda view: any(_in_network(t, network) for t in view.texts(ref))), UNKNOWN)
    if isinstance(value, SigmaTimestampPart):  # a SigmaNumber subclass: test it before SigmaNumber
        part, number = value.timestamp_part, value.number
        at = Call(lambda view: any(_time_part(v, part) == number for v in view.values(ref)))
        return Compiled(at, UNKNOWN)
    if isinstance(value, SigmaNumber):
        return Compiled(Call(_number_equals(ref, value.number)), UNKNOWN)
    if isinstance(value, SigmaBool):
        wanted_bool = bool(value.boolean)
        is_bool = Call(lambda view: any(_as_bool(v) is wanted_bool for v in view.values(ref)))
        return Compiled(is_bool, UNKNOWN)
    if isinstance(value, SigmaCompareExpression):
        compare, bound = _COMPARE[value.op], value.number.number

        def compares(view: EventView) -> bool:
            numbers = (_as_number(v) for v in view.values(ref))
            return any(n is not None and compare(n, bound) for n in numbers)

        return Compiled(Call(compares), UNKNOWN)
    if isinstance(value, SigmaFieldReference):
        matcher = _field_reference(ref, value)
        if value.starts_with or value.ends_with:
            return Compiled(Call(matcher), UNKNOWN)
        return Compiled(SameText(ref, FieldRef(value.field), matcher), UNKNOWN)
    raise RuleCompileError(f"value type {type(value).__name__} ({value!r}) is not supported by the matcher")


def _number_equals(ref: FieldRef, number: int | float) -> Matcher:
    def equals(view: EventView) -> bool:
        for value in view.values(ref):
            # decoded JSON integers (EventID, ports) compare directly; the rest are parsed
            if (value if type(value) is int else _as_number(value)) == number:
                return True
        return False

    return equals


def _field_reference(ref: FieldRef, value: SigmaFieldReference) -> Matcher:
    other = FieldRef(value.field)
    mine_name, theirs_name = ref.dotted, other.dotted
    if value.starts_with and value.ends_with:
        test: Callable[[str, str], bool] = lambda mine, theirs: theirs in mine  # noqa: E731
    elif value.starts_with:
        test = str.startswith
    elif value.ends_with:
        test = str.endswith
    else:
        # Plain equality (``Image|fieldref: ParentImage``) runs on every event of its route when the rule
        # has no literal: the pre-filter's lowered texts are read without a call, the test runs in C.

        def equal(view: EventView) -> bool:
            known = view.lowered_texts
            mine = known.get(mine_name)
            if mine is None:
                mine = view.lowered(ref)
            if not mine:
                return False
            theirs = known.get(theirs_name)
            if theirs is None:
                theirs = view.lowered(other)
            for text in mine:  # noqa: SIM110 (a generator costs a frame per call on this hot path)
                if text in theirs:
                    return True
            return False

        return equal

    def compares(view: EventView) -> bool:
        return any(test(mine, theirs) for mine in view.lowered(ref) for theirs in view.lowered(other))

    return compares


def _in_network(text: str, network: Any) -> bool:
    try:
        return ip_address(text.strip()) in network
    except ValueError:
        return False


def _as_number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text, 0) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return None
    return None


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _time_part(value: Any, part: TimestampPart) -> int | None:
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            moment = datetime.fromtimestamp(value, tz=UTC)
        elif isinstance(value, str):
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        else:
            return None
    except (ValueError, OverflowError, OSError):
        return None
    return {
        TimestampPart.MINUTE: moment.minute,
        TimestampPart.HOUR: moment.hour,
        TimestampPart.DAY: moment.day,
        TimestampPart.WEEK: moment.isocalendar().week,
        TimestampPart.MONTH: moment.month,
        TimestampPart.YEAR: moment.year,
    }[part]
