"""Compile pySigma correlation rules into what the window state machine needs.

A compiled correlation knows which rules feed it, where each base rule's events keep the group-by values
and the aggregated value (after ``aliases`` and the field resolver), the window length and the condition.
Supported types: event_count, value_count, temporal (also with an expression condition such as
``a and not b``), temporal_ordered, value_sum, value_avg, value_percentile, value_median. Correlations of
correlations are supported when the outer rule's group-by fields are among the inner rule's (an inner
match feeds the outer one with its group values, at its window end).

Not supported (a :class:`CorrelationCompileError` names the rule and says why): lt / lte / neq on
event_count and value_count, which ask about the *absence* of events and cannot be decided while a sliding
window is still open; value aggregates over inner correlation matches; cycles of correlations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationRule,
    SigmaExtendedCorrelationCondition,
    SigmaRuleReference,
)
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from collector.detection.correlation.conditions import RuleExpression, Threshold
from collector.detection.correlation.fields import FieldResolver, IdentityFieldResolver

MICROS = 1_000_000


class CorrelationKind(StrEnum):
    EVENT_COUNT = "event_count"
    VALUE_COUNT = "value_count"
    TEMPORAL = "temporal"
    TEMPORAL_ORDERED = "temporal_ordered"
    VALUE_SUM = "value_sum"
    VALUE_AVG = "value_avg"
    VALUE_PERCENTILE = "value_percentile"
    VALUE_MEDIAN = "value_median"

    @property
    def aggregates_values(self) -> bool:
        return self in _VALUE_KINDS


_VALUE_KINDS = frozenset(
    {
        CorrelationKind.VALUE_COUNT,
        CorrelationKind.VALUE_SUM,
        CorrelationKind.VALUE_AVG,
        CorrelationKind.VALUE_PERCENTILE,
        CorrelationKind.VALUE_MEDIAN,
    }
)
_COUNT_KINDS = frozenset({CorrelationKind.EVENT_COUNT, CorrelationKind.VALUE_COUNT})


class CorrelationCompileError(ValueError):
    """A correlation rule this engine cannot evaluate; ``rule_id`` names it when known."""

    def __init__(self, reason: str, rule_id: str | None = None) -> None:
        super().__init__(f"{rule_id}: {reason}" if rule_id else reason)
        self.reason = reason
        self.rule_id = rule_id


@dataclass(frozen=True, slots=True)
class BaseRuleFeed:
    """One base rule feeding a correlation and where its events keep the fields the correlation reads.

    ``key`` is the base rule's canonical id (its UUID, else its name) and is what correlation input
    records carry. ``identifiers`` are every id a caller may pass for it (UUID and name). When the feed is
    another correlation (``from_correlation``), each group path is one name of that correlation's group.
    """

    key: str
    reference: str
    identifiers: frozenset[str]
    group_paths: tuple[tuple[str, ...], ...]
    value_paths: tuple[str, ...] | None
    from_correlation: bool = False


@dataclass(frozen=True, slots=True)
class CompiledCorrelation:
    """A correlation rule ready for :class:`~collector.detection.correlation.tracker.CorrelationTracker`.

    ``generates_alerts`` is False for a correlation that only feeds another one (Sigma's ``generate``).
    ``sequence`` lists feed keys in the rule's order (repeats allowed: temporal_ordered ``[fail, fail,
    success]`` asks for two failures then a success). ``window_us`` is the timespan in microseconds.
    """

    id: str
    title: str
    level: str | None
    kind: CorrelationKind
    feeds: tuple[BaseRuleFeed, ...]
    sequence: tuple[str, ...]
    group_by: tuple[str, ...]
    window_us: int
    condition: Threshold | RuleExpression
    percentile: int | None
    rule: SigmaCorrelationRule = field(compare=False, repr=False)
    generates_alerts: bool = True

    def feed(self, base_rule_id: str) -> BaseRuleFeed | None:
        for candidate in self.feeds:
            if base_rule_id == candidate.key or base_rule_id in candidate.identifiers:
                return candidate
        return None


class CorrelationSet:
    """Compiled correlations indexed by the base rules that feed them. Immutable after construction."""

    def __init__(self, correlations: Iterable[CompiledCorrelation]) -> None:
        self.correlations: tuple[CompiledCorrelation, ...] = tuple(correlations)
        self.by_id: dict[str, CompiledCorrelation] = {}
        self._by_base: dict[str, list[CompiledCorrelation]] = {}
        for correlation in self.correlations:
            if correlation.id in self.by_id:
                raise CorrelationCompileError("two correlation rules share this id", correlation.id)
            self.by_id[correlation.id] = correlation
            for feed in correlation.feeds:
                for identifier in feed.identifiers:
                    self._by_base.setdefault(identifier, []).append(correlation)

    def feeding(self, base_rule_id: str) -> list[CompiledCorrelation]:
        """Correlations that ``base_rule_id`` (the base rule's UUID or name) feeds; often none."""
        return self._by_base.get(base_rule_id, [])

    def __len__(self) -> int:
        return len(self.correlations)


def compile_correlations(
    rules: Iterable[SigmaCorrelationRule], resolver: FieldResolver | None = None
) -> tuple[CorrelationSet, list[CorrelationCompileError]]:
    """Compile every rule that can be compiled; each one that cannot is reported and left out."""
    compiled: list[CompiledCorrelation] = []
    errors: list[CorrelationCompileError] = []
    seen: set[str] = set()
    for rule in rules:
        try:
            correlation = compile_correlation(rule, resolver)
        except CorrelationCompileError as error:
            errors.append(error)
            continue
        if correlation.id in seen:
            errors.append(
                CorrelationCompileError("duplicate correlation id; later rule ignored", correlation.id)
            )
            continue
        seen.add(correlation.id)
        compiled.append(correlation)
    compiled = _drop_broken_chains(compiled, errors)
    return CorrelationSet(compiled), errors


def _drop_broken_chains(
    compiled: list[CompiledCorrelation], errors: list[CorrelationCompileError]
) -> list[CompiledCorrelation]:
    """Leave out correlations fed by a correlation that is missing, groups differently, or is part of a
    cycle; repeat until nothing more drops, since leaving one out can break another."""
    while True:
        by_id = {correlation.id: correlation for correlation in compiled}
        broken: dict[str, str] = {}
        for correlation in compiled:
            for feed in correlation.feeds:
                if not feed.from_correlation:
                    continue
                inner = by_id.get(feed.key)
                if inner is None:
                    broken[correlation.id] = f"fed by correlation {feed.reference!r}, which did not compile"
                elif missing := [p[0] for p in feed.group_paths if p[0] not in inner.group_by]:
                    broken[correlation.id] = (
                        f"groups by {missing}, which {feed.reference!r} does not group by"
                    )
                elif _feeds_back(inner, correlation.id, by_id, set()):
                    broken[correlation.id] = f"forms a cycle through {feed.reference!r}"
        if not broken:
            return compiled
        errors.extend(CorrelationCompileError(reason, rule_id) for rule_id, reason in broken.items())
        compiled = [correlation for correlation in compiled if correlation.id not in broken]


def _feeds_back(
    correlation: CompiledCorrelation, target: str, by_id: dict[str, CompiledCorrelation], seen: set[str]
) -> bool:
    if correlation.id == target:
        return True
    seen.add(correlation.id)
    return any(
        _feeds_back(by_id[feed.key], target, by_id, seen)
        for feed in correlation.feeds
        if feed.from_correlation and feed.key in by_id and feed.key not in seen
    )


def compile_correlation(
    rule: SigmaCorrelationRule, resolver: FieldResolver | None = None
) -> CompiledCorrelation:
    """Compile one correlation whose rule references were resolved (``SigmaCollection`` does this)."""
    resolver = resolver or IdentityFieldResolver()
    rule_id = str(rule.id) if rule.id else rule.name
    if not rule_id:
        raise CorrelationCompileError("a correlation rule needs an id or a name: match ids derive from it")
    try:
        kind = CorrelationKind(rule.type.name.lower())
    except ValueError:
        raise CorrelationCompileError(
            f"correlation type {rule.type.name.lower()} is not supported", rule_id
        ) from None
    condition, value_field, percentile = _condition(rule, kind, rule_id)
    group_by = tuple(rule.group_by or ())
    references = rule.referenced_rules or list(rule.rules or ())
    feeds: dict[str, BaseRuleFeed] = {}
    sequence: list[str] = []
    for reference in references:
        base = _referenced_rule(reference, rule_id)
        key = str(base.id) if base.id else (base.name or reference.reference)
        if key not in feeds:
            try:
                feeds[key] = _feed(rule, reference, base, key, value_field, resolver)
            except CorrelationCompileError:
                raise
            except (SigmaError, ValueError, TypeError) as error:
                reason = f"fields for rule {reference.reference!r} cannot be resolved: {error}"
                raise CorrelationCompileError(reason, rule_id) from error
        sequence.append(key)
    if not feeds:
        raise CorrelationCompileError("references no base rule", rule_id)
    if isinstance(condition, RuleExpression):
        by_reference = {feed.reference for feed in feeds.values()}
        unknown = [name for name in condition.references() if name not in by_reference]
        if unknown:
            raise CorrelationCompileError(f"condition names rules it does not reference: {unknown}", rule_id)
    return CompiledCorrelation(
        id=rule_id,
        title=rule.title,
        level=rule.level.name.lower() if rule.level else None,
        kind=kind,
        feeds=tuple(feeds.values()),
        sequence=tuple(sequence),
        group_by=group_by,
        window_us=rule.timespan.seconds * MICROS,
        condition=condition,
        percentile=percentile,
        rule=rule,
        # Sigma: a correlation used by another raises no alert of its own unless the user sets `generate`.
        generates_alerts=rule._output,
    )


def _condition(
    rule: SigmaCorrelationRule, kind: CorrelationKind, rule_id: str
) -> tuple[Threshold | RuleExpression, str | None, int | None]:
    sigma_condition = rule.condition
    if isinstance(sigma_condition, SigmaExtendedCorrelationCondition):
        if kind is not CorrelationKind.TEMPORAL:
            raise CorrelationCompileError("an expression condition is supported for temporal only", rule_id)
        return RuleExpression(sigma_condition.expression, sigma_condition.parsed), None, None
    if not isinstance(sigma_condition, SigmaCorrelationCondition):
        raise CorrelationCompileError("has no condition", rule_id)
    threshold = Threshold.from_sigma(sigma_condition)
    if kind in _COUNT_KINDS and not threshold.monotone and threshold.op != "eq":
        raise CorrelationCompileError(
            f"condition {threshold} asks for the absence of events, which a streaming window cannot decide",
            rule_id,
        )
    value_field: str | None = None
    if kind.aggregates_values:
        fieldref = sigma_condition.fieldref
        if isinstance(fieldref, list):
            if len(fieldref) != 1:
                raise CorrelationCompileError("aggregates over several fields are not supported", rule_id)
            fieldref = fieldref[0]
        if not fieldref:
            raise CorrelationCompileError(f"{kind} needs condition.field", rule_id)
        value_field = fieldref
    percentile = sigma_condition.percentile
    if kind is CorrelationKind.VALUE_MEDIAN:
        percentile = 50
    elif kind is CorrelationKind.VALUE_PERCENTILE and (percentile is None or not 0 < percentile <= 100):
        raise CorrelationCompileError("value_percentile needs condition.percentile in 1..100", rule_id)
    return threshold, value_field, percentile


def _referenced_rule(reference: SigmaRuleReference, rule_id: str) -> SigmaRule | SigmaCorrelationRule:
    base = getattr(reference, "rule", None)
    if not isinstance(base, SigmaRule | SigmaCorrelationRule):
        raise CorrelationCompileError(
            f"reference {reference.reference!r} is unresolved: load base and correlation rules together",
            rule_id,
        )
    return base


def _feed(
    rule: SigmaCorrelationRule,
    reference: SigmaRuleReference,
    base: SigmaRule | SigmaCorrelationRule,
    key: str,
    value_field: str | None,
    resolver: FieldResolver,
) -> BaseRuleFeed:
    identifiers = frozenset(x for x in (key, base.name, reference.reference) if x)
    group_by = rule.group_by or ()
    if isinstance(base, SigmaCorrelationRule):
        if value_field:
            raise CorrelationCompileError(
                f"aggregates a value over correlation {reference.reference!r}, whose matches carry none",
                str(rule.id or rule.name),
            )
        names = tuple((_alias(rule, reference, name),) for name in group_by)
        return BaseRuleFeed(key, reference.reference, identifiers, names, None, from_correlation=True)
    return BaseRuleFeed(
        key=key,
        reference=reference.reference,
        identifiers=identifiers,
        group_paths=tuple(resolver.resolve(base, _alias(rule, reference, name)) for name in group_by),
        value_paths=resolver.resolve(base, _alias(rule, reference, value_field)) if value_field else None,
    )


def _alias(rule: SigmaCorrelationRule, reference: SigmaRuleReference, name: str) -> str:
    """The field that ``name`` (a group-by or condition field, maybe an alias) stands for in one rule."""
    alias = rule.aliases.aliases.get(name)
    if alias is None:
        return name
    mapped = next((f for ref, f in alias.mapping.items() if ref.reference == reference.reference), None)
    if mapped is None:
        raise CorrelationCompileError(
            f"alias {name!r} has no field for rule {reference.reference!r}", str(rule.id or rule.name)
        )
    return mapped
