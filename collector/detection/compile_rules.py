"""Parsed rules to :class:`CompiledRule`: apply Sigma filters and the field-mapping pipeline, resolve
correlation references, compile each condition. A rule that fails any step is reported and left out."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.filters import SigmaFilter
from sigma.processing.pipeline import ProcessingPipeline
from sigma.rule import SigmaRule

from collector.detection.conditions import CompileOptions, ConditionCompiler
from collector.detection.errors import RuleCompileError, RuleLoadError
from collector.detection.loading import ParsedRule, error_from_sigma
from collector.detection.model import CompiledRule, LogSource

# What a bad rule can raise while being filtered, mapped or compiled. RecursionError: conditions nested
# thousands deep exhaust pySigma's recursive parser; that costs this rule, not the load.
_RULE_FAILURES = (
    SigmaError,
    RuleCompileError,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    RecursionError,
)

_DERIVED_ID_NAMESPACE = uuid.UUID("3f0b8a52-5d7e-4c61-9a2f-0e6b1c9d4a77")


@dataclass
class CompiledRuleSet:
    rules: list[CompiledRule] = field(default_factory=list)
    correlation_rules: list[SigmaCorrelationRule] = field(default_factory=list)
    errors: list[RuleLoadError] = field(default_factory=list)


def rule_id(parsed: ParsedRule) -> str:
    """The rule's UUID, or a UUID derived from its path under the rule root and its place in the file,
    which stays the same across machines and reloads as long as the file is not moved."""
    if parsed.rule.id is not None:
        return str(parsed.rule.id)
    return str(uuid.uuid5(_DERIVED_ID_NAMESPACE, f"{parsed.relative_path}#{parsed.ordinal}"))


def compile_rules(
    parsed_rules: Sequence[ParsedRule],
    pipeline: ProcessingPipeline | None,
    options: CompileOptions,
    filters: Sequence[SigmaFilter] = (),
) -> CompiledRuleSet:
    """Sigma filters (from any file) are applied to the rules they name before the pipeline, as pySigma
    does for a collection."""
    result = CompiledRuleSet()
    kept: list[ParsedRule] = []
    first_seen: dict[str, Path] = {}
    for parsed in parsed_rules:
        ident = rule_id(parsed)
        if ident in first_seen:
            reason = f"duplicate rule id {ident}, first loaded from {first_seen[ident]}"
            result.errors.append(RuleLoadError(parsed.path, None, reason, ident))
            continue
        first_seen[ident] = parsed.path
        try:
            for sigma_filter in filters:
                sigma_filter.apply_on_rule(parsed.rule)
        except _RULE_FAILURES as error:
            result.errors.append(_error(parsed, error, "filter"))
            continue
        if pipeline is not None:
            try:
                pipeline.apply(parsed.rule)
            except _RULE_FAILURES as error:
                result.errors.append(_error(parsed, error, "processing pipeline"))
                continue
        kept.append(parsed)

    collection = SigmaCollection([p.rule for p in kept], resolve_references=False)
    resolved: list[ParsedRule] = []
    for parsed in kept:
        if isinstance(parsed.rule, SigmaCorrelationRule):
            try:
                parsed.rule.resolve_rule_references(collection)
            except SigmaError as error:
                result.errors.append(_error(parsed, error, "correlation"))
                continue
            result.correlation_rules.append(parsed.rule)
        resolved.append(parsed)

    compiler = ConditionCompiler(options)
    for parsed in resolved:
        if isinstance(parsed.rule, SigmaRule):
            try:
                result.rules.append(_compile(parsed, parsed.rule, compiler))
            except _RULE_FAILURES as error:
                result.errors.append(_error(parsed, error, "compile"))
    return result


def _compile(parsed: ParsedRule, rule: SigmaRule, compiler: ConditionCompiler) -> CompiledRule:
    trees = [condition.parsed for condition in rule.detection.parsed_condition]
    compiled = compiler.compile_conditions([tree for tree in trees if tree is not None])
    return CompiledRule(
        id=rule_id(parsed),
        name=rule.name,
        title=rule.title,
        description=rule.description,
        level=str(rule.level) if rule.level is not None else None,
        status=str(rule.status) if rule.status is not None else None,
        tags=[f"{tag.namespace}.{tag.name}" for tag in rule.tags],
        references=list(rule.references),
        author=rule.author,
        falsepositives=list(rule.falsepositives),
        logsource=LogSource(rule.logsource.product, rule.logsource.category, rule.logsource.service),
        source_path=parsed.path,
        matcher=compiled.matcher,
        requirement=compiled.requirement,
        generates_alerts=rule._output,
    )


def _error(parsed: ParsedRule, error: Exception, stage: str) -> RuleLoadError:
    ident = rule_id(parsed)
    if isinstance(error, SigmaError):
        sigma = error_from_sigma(parsed.path, error, ident)
        return RuleLoadError(sigma.path, sigma.line, f"{stage}: {sigma.reason}", ident)
    return RuleLoadError(parsed.path, None, f"{stage}: {type(error).__name__}: {error}", ident)
