"""Rewrites of configuration values before they are validated, without pydantic.

The configuration models (:mod:`agent.config_models`, the sensors' ``config`` modules) apply them in
their ``mode="before"`` validators; the agent, which validates with the generated msgspec Structs
(:mod:`agent.config_types`), applies them with :func:`prepare`. ``BEFORE`` names, for each, the class
and field it belongs to.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any


def upper(value: Any) -> Any:
    """``level: info`` means ``INFO``."""
    return value.upper() if isinstance(value, str) else value


def paths_as_sources(value: Any) -> Any:
    """Accept plain paths in the list: ``sources: [/var/log/auth.log]``."""
    if isinstance(value, list):
        return [{"path": item} if isinstance(item, str | Path) else item for item in value]
    return value


BEFORE: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("LoggingConfig", "level"): upper,
    ("LoginConfig", "sources"): paths_as_sources,
}
"""(configuration class, field) -> the rewrite its validator applies."""


def prepare(struct: type[Any], value: Any) -> Any:
    """``value`` (plain data meant for ``struct``) with every rewrite of ``BEFORE`` applied, at any depth;
    the input is not changed."""
    if not isinstance(value, dict):
        return value
    prepared = dict(value)
    for name, kind in typing.get_type_hints(struct).items():
        if name not in prepared:
            continue
        rewrite = BEFORE.get((struct.__name__, name))
        if rewrite is not None:
            prepared[name] = rewrite(prepared[name])
        for inner in _structs_in(kind):
            if isinstance(prepared[name], list):
                prepared[name] = [prepare(inner, item) for item in prepared[name]]
            else:
                prepared[name] = prepare(inner, prepared[name])
    return prepared


def _structs_in(kind: Any) -> list[type[Any]]:
    """The Struct types a field holds, directly, in a union or as list items."""
    if isinstance(kind, type) and hasattr(kind, "__struct_fields__"):
        return [kind]
    if typing.get_origin(kind) is dict:  # no configuration class holds a map of sections
        return []
    return [inner for argument in typing.get_args(kind) for inner in _structs_in(argument)]
