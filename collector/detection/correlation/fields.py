"""Which event field a correlation reads for one base rule, and how its value is read from an event.

Correlation rules name fields the way their base rules do: Sigma names (``IpAddress``) that the processing
pipeline maps to ECS paths, or ECS paths already (``source.ip``). A :class:`FieldResolver` turns the name
into the dotted path found in the decoded event *for one base rule*, because pipeline mappings depend on the
base rule's log source. Names the pipeline does not map pass through unchanged, so already-mapped names work
with or without a pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from sigma.processing.pipeline import ProcessingPipeline
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule


class FieldResolver(Protocol):
    """Maps a field name used by a correlation rule to the dotted event path for one base rule.

    Called only while correlations are compiled, never per event; may be slow. Returns at least one path;
    several when the mapping is one-to-many (the first one present in an event is used).
    """

    def resolve(self, base_rule: SigmaRule, field: str) -> tuple[str, ...]: ...


class IdentityFieldResolver:
    """For rules that already use the event's dotted ECS paths."""

    def resolve(self, base_rule: SigmaRule, field: str) -> tuple[str, ...]:
        return (field,)


class PipelineFieldResolver:
    """Resolves names through the same pySigma processing pipeline the base rules were compiled with.

    The pipeline is applied to a throw-away rule carrying the base rule's log source and one detection item
    per field, so logsource-conditioned ``field_name_mapping`` items apply exactly as they did to the base
    rule's own detection.
    """

    def __init__(self, pipeline: ProcessingPipeline) -> None:
        self._pipeline = pipeline

    @classmethod
    def from_path(cls, path: Path) -> PipelineFieldResolver:
        """The resolver for a pipeline YAML file, e.g. ``rules/pipelines/linux-ecs.yml``."""
        return cls(ProcessingPipeline.from_yaml(path.read_text(encoding="utf-8"), source_path=str(path)))

    def resolve(self, base_rule: SigmaRule, field: str) -> tuple[str, ...]:
        probe = SigmaRule.from_dict(
            {
                "title": "field probe",
                "logsource": base_rule.logsource.to_dict(),
                "detection": {"probe": {field: "x"}, "condition": "probe"},
            }
        )
        self._pipeline.apply(probe)
        paths = _field_names(probe.detection.detections["probe"])
        return tuple(dict.fromkeys(paths)) or (field,)


def _field_names(node: SigmaDetection | SigmaDetectionItem) -> list[str]:
    if isinstance(node, SigmaDetectionItem):
        return [node.field] if node.field else []
    return [name for item in node.detection_items for name in _field_names(item)]


def read_field(event: Mapping[str, Any], paths: tuple[str, ...]) -> Any:
    """The value at the first of ``paths`` present (not null) in the nested ``event``, else ``None``.

    A literal dotted top-level key (``{"source.ip": ...}``) counts too, for flattened documents.
    """
    for path in paths:
        value = _read_path(event, path)
        if value is not None:
            return value
    return None


def _read_path(event: Mapping[str, Any], path: str) -> Any:
    node: Any = event
    for part in path.split("."):
        if not isinstance(node, Mapping):
            node = None
            break
        node = node.get(part)
        if node is None:
            break
    if node is None and "." in path:
        node = event.get(path)
    return node


def group_value(value: Any) -> str | None:
    """The canonical text of a group-by value: equal texts mean the same group, across processes.

    Objects and empty lists group nothing (``None``); a list groups by its sorted elements, so
    ``related.ip`` in any order lands in one group.
    """
    if value is None or isinstance(value, Mapping):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        parts = sorted(text for text in map(group_value, value) if text is not None)
        return ",".join(parts) if parts else None
    return str(value)
