"""The detection engine: load rules once, then match decoded events against the rules of their route."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.filters import SigmaFilter
from sigma.processing.pipeline import ProcessingPipeline

from collector.detection.compile_rules import compile_rules
from collector.detection.conditions import CompileOptions
from collector.detection.errors import RuleLoadError
from collector.detection.event_view import EventView
from collector.detection.loading import ParsedRule, parse_file, rule_files
from collector.detection.model import CompiledRule, RuleMatch
from collector.detection.prefilter import RouteIndex
from collector.detection.routing import LINUX_ECS_ROUTING, RoutingTable


class PipelineLoadError(ValueError):
    """The processing pipeline file is unusable; unlike a bad rule, this stops loading altogether."""


def load_pipeline(path: Path) -> ProcessingPipeline:
    try:
        return ProcessingPipeline.from_yaml(path.read_text(encoding="utf-8"), source_path=str(path))
    except (OSError, SigmaError, ValueError, TypeError, AttributeError) as error:
        raise PipelineLoadError(f"{path}: {type(error).__name__}: {error}") from error


class DetectionEngine:
    """Single-event Sigma matching over decoded ECS documents.

    Lifecycle: build with :meth:`from_paths` (slow: parses and compiles every rule), then call
    :meth:`match` for each event; an engine never changes after construction, so it may be shared by
    threads. To reload rules, build a new engine (:meth:`reload` repeats the original arguments) and swap
    the reference the consumer uses in one assignment; matches already returned keep their rule objects.

    Guarantees: a rule file or rule that fails to load is listed in :attr:`errors` with its path and the
    reason, and every other rule still loads; :meth:`match` never raises on a well-formed mapping,
    whatever the field values, and costs linear time in the event size per rule (RE2, no backtracking).
    """

    def __init__(
        self,
        rules: Sequence[CompiledRule],
        *,
        correlation_rules: Sequence[SigmaCorrelationRule] = (),
        errors: Sequence[RuleLoadError] = (),
        routing: RoutingTable = LINUX_ECS_ROUTING,
        reload_arguments: tuple[tuple[Path, ...], Path | None, CompileOptions] | None = None,
    ) -> None:
        self.rules: list[CompiledRule] = list(rules)
        self.correlation_rules: list[SigmaCorrelationRule] = list(correlation_rules)
        self.errors: list[RuleLoadError] = list(errors)
        self.routing = routing
        self._reload_arguments = reload_arguments
        self._indexes: dict[str, RouteIndex] = {
            route.name: RouteIndex([rule for rule in self.rules if route.accepts(rule.logsource)])
            for route in routing.routes
        }

    @classmethod
    def from_paths(
        cls,
        paths: Sequence[Path],
        pipeline: Path | None = None,
        *,
        routing: RoutingTable = LINUX_ECS_ROUTING,
        options: CompileOptions | None = None,
    ) -> DetectionEngine:
        """Load every ``*.yml``/``*.yaml`` under ``paths`` (files or directories, recursively).

        ``pipeline`` is a pySigma processing pipeline YAML mapping rule field names to event field names
        (``rules/pipelines/linux-ecs.yml`` for the wire events); ``None`` matches field names as written.
        Raises :class:`PipelineLoadError` for a broken pipeline and ``FileNotFoundError`` for a missing
        rule path; problems in rule files are collected in :attr:`errors` instead.
        """
        options = options or CompileOptions()
        processing = load_pipeline(pipeline) if pipeline is not None else None
        parsed: list[ParsedRule] = []
        errors: list[RuleLoadError] = []
        filters: list[SigmaFilter] = []
        for path, relative in rule_files(paths):
            parsed_file = parse_file(path, relative)
            parsed.extend(parsed_file.rules)
            errors.extend(parsed_file.errors)
            filters.extend(parsed_file.filters)
        compiled = compile_rules(parsed, processing, options, filters)
        return cls(
            compiled.rules,
            correlation_rules=compiled.correlation_rules,
            errors=errors + compiled.errors,
            routing=routing,
            reload_arguments=(tuple(paths), pipeline, options),
        )

    def reload(self) -> DetectionEngine:
        """A new engine from the same paths, pipeline, routing and options; this engine is unchanged."""
        if self._reload_arguments is None:
            raise RuntimeError("this engine was not built by from_paths and cannot reload itself")
        paths, pipeline, options = self._reload_arguments
        return DetectionEngine.from_paths(paths, pipeline, routing=self.routing, options=options)

    def match(self, event: Mapping[str, Any]) -> list[RuleMatch]:
        """The rules of the event's route that match it, in load order; [] for unrouted events."""
        route = self.routing.route_for(event)
        if route is None:
            return []
        view = EventView(event)
        candidates = self._indexes[route.name].candidates(view)
        if not candidates:  # most events: no comprehension to set up
            return []
        return [RuleMatch(rule, event) for rule in candidates if rule.matcher(view)]

    def rules_of_route(self, route_name: str) -> tuple[CompiledRule, ...]:
        return self._indexes[route_name].rules

    @property
    def unrouted_rules(self) -> list[CompiledRule]:
        """Loaded rules that no route accepts (e.g. Windows rules): they can never match an event."""
        routed = {id(rule) for index in self._indexes.values() for rule in index.rules}
        return [rule for rule in self.rules if id(rule) not in routed]
