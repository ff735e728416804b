"""Streaming Sigma detection: rules loaded with pySigma, compiled to Python matchers, routed by log source.

Public API::

    engine = DetectionEngine.from_paths([Path("rules/sigma")], pipeline=Path("rules/pipelines/linux-ecs.yml"))
    engine.rules, engine.correlation_rules, engine.errors
    engine.match(event_dict) -> list[RuleMatch]
    engine.reload() -> DetectionEngine   # build anew, then swap the reference
"""

from collector.detection.conditions import CompileOptions
from collector.detection.engine import DetectionEngine, PipelineLoadError
from collector.detection.errors import RuleLoadError
from collector.detection.model import CompiledRule, Detector, LogSource, RuleMatch
from collector.detection.routing import LINUX_ECS_ROUTING, Route, RoutingTable

__all__ = [
    "LINUX_ECS_ROUTING",
    "CompileOptions",
    "CompiledRule",
    "DetectionEngine",
    "Detector",
    "LogSource",
    "PipelineLoadError",
    "Route",
    "RoutingTable",
    "RuleLoadError",
    "RuleMatch",
]
