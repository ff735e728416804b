"""Elasticsearch mappings for events and alerts, derived from the wire contract's models.

The contract is the one definition of the schema: every field a model declares gets a mapping from its
Python type, and a short table adjusts the few fields ECS types differently (IPs, prose, command lines).
``dynamic: false`` keeps fields from newer agents in ``_source`` without letting them grow the mapping.
"""

from __future__ import annotations

import types
import typing
from datetime import datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel

from event_contract.events import AuthenticationEvent, FileEvent, HeartbeatEvent, ProcessEvent

KEYWORD: dict[str, Any] = {"type": "keyword", "ignore_above": 1024}
SEARCHABLE_KEYWORD: dict[str, Any] = {**KEYWORD, "fields": {"text": {"type": "text"}}}
TEXT: dict[str, Any] = {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}}}
IP: dict[str, Any] = {"type": "ip", "ignore_malformed": True}

# ECS types these differently from what their Python type suggests. (``wildcard`` and
# ``match_only_text`` need modules the minimal distribution lacks; keyword + text covers both uses.)
OVERRIDES: dict[str, dict[str, Any]] = {
    "message": TEXT,
    "host.ip": IP,
    "source.ip": IP,
    "destination.ip": IP,
    "process.command_line": SEARCHABLE_KEYWORD,
    "process.parent.command_line": SEARCHABLE_KEYWORD,
    "process.executable": SEARCHABLE_KEYWORD,
    "file.path": SEARCHABLE_KEYWORD,
    "canhgac.file.previous.path": SEARCHABLE_KEYWORD,
    "event.severity": {"type": "long"},
    "event.risk_score": {"type": "float"},
}

_SCALARS: dict[type, dict[str, Any]] = {
    str: KEYWORD,
    int: {"type": "long"},
    float: {"type": "double"},
    bool: {"type": "boolean"},
    datetime: {"type": "date"},
}


def _mapping_for(annotation: Any, path: str) -> dict[str, Any] | None:
    if path in OVERRIDES:
        return OVERRIDES[path]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        candidates = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return _mapping_for(candidates[0], path) if candidates else None
    if origin is typing.Annotated:
        return _mapping_for(typing.get_args(annotation)[0], path)
    if origin is list:
        return _mapping_for(typing.get_args(annotation)[0], path)
    if origin is dict:
        # Free-form maps (per-sensor health, counters) are kept, not indexed: their keys are the agent's.
        return {"type": "object", "enabled": False}
    if origin is Literal:
        return KEYWORD
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {"properties": model_properties(annotation, path + ".")}
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return KEYWORD
    return _SCALARS.get(annotation) if isinstance(annotation, type) else None


def model_properties(model: type[BaseModel], prefix: str = "") -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        wire_name = field.alias or name
        mapping = _mapping_for(field.annotation, prefix + wire_name)
        if mapping is not None:
            properties[wire_name] = mapping
    return properties


def merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    merged = dict(left)
    for key, value in right.items():
        if key in merged and "properties" in merged[key] and "properties" in value:
            merged[key] = {"properties": merge(merged[key]["properties"], value["properties"])}
        else:
            merged.setdefault(key, value)
    return merged


def event_properties() -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for model in (FileEvent, ProcessEvent, AuthenticationEvent, HeartbeatEvent):
        properties = merge(properties, model_properties(model))
    return properties


def _object(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"properties": properties}


ALERT_EXTRA: dict[str, Any] = {
    "event": _object(
        severity={"type": "long"},
        risk_score={"type": "float"},
        ingested={"type": "date"},
    ),
    "rule": _object(
        id=KEYWORD,
        uuid=KEYWORD,
        name=SEARCHABLE_KEYWORD,
        description={"type": "text"},
        reference=KEYWORD,
        author=KEYWORD,
        license=KEYWORD,
        ruleset=KEYWORD,
        version=KEYWORD,
        category=KEYWORD,
    ),
    "threat": _object(
        framework=KEYWORD,
        tactic=_object(id=KEYWORD, name=KEYWORD, reference=KEYWORD),
        technique=_object(
            id=KEYWORD,
            name=KEYWORD,
            reference=KEYWORD,
            subtechnique=_object(id=KEYWORD, name=KEYWORD, reference=KEYWORD),
        ),
    ),
    "destination": _object(ip=IP, port={"type": "long"}, domain=KEYWORD),
    "canhgac": _object(
        alert=_object(
            status=KEYWORD,
            level=KEYWORD,
            incident_id=KEYWORD,
            event_ids=KEYWORD,
            sequence=_object(first={"type": "long"}, last={"type": "long"}, count={"type": "long"}),
            acknowledged=_object(by=KEYWORD, at={"type": "date"}, reason={"type": "text"}),
            correlation=_object(
                type=KEYWORD,
                group={"type": "object", "enabled": False},
                group_text=KEYWORD,
                window_start={"type": "date"},
                window_end={"type": "date"},
                value={"type": "double"},
            ),
        )
    ),
}


def events_mapping() -> dict[str, Any]:
    return {"dynamic": False, "properties": event_properties()}


def alerts_mapping() -> dict[str, Any]:
    return {"dynamic": False, "properties": merge(event_properties(), ALERT_EXTRA)}
