"""Fast wire types: msgspec Structs generated from the pydantic contract models.

The pydantic models in :mod:`event_contract.events` stay the one definition of the schema. Every model is
translated, once, into a :class:`msgspec.Struct` with the same fields, types, constraints, defaults and
wire names; msgspec validates (``msgspec.convert``) and encodes in C, several times faster than pydantic.
The agent builds and encodes its events with them, the collector validates what it receives with them.

The Structs encode as :func:`event_contract.encode_event` does: every field, defaults included, except
those that are ``None``. They are ``omit_defaults`` Structs whose only plain default is ``None``: any other
default is given as a factory, which msgspec never compares against, so ``event.kind: "event"`` or an
empty ``host.ip`` is written out as pydantic writes it.

Whatever the generated types accept, the contract accepts (they are never looser; the unit tests check
it); pydantic's lax mode accepts a few spellings they refuse, so a refusal should be checked with the
contract before it is final.
"""

from __future__ import annotations

import copy
import datetime
import enum
import functools
import operator
import types
import typing
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal

import msgspec
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from event_contract.events import MODEL_BY_DATASET

__all__ = ["STRUCT_BY_DATASET", "encode_struct", "struct_for"]

_KNOWN_VALIDATORS = frozenset({"_dataset_matches_type"})
"""Contract validators reproduced here: the dataset check holds by construction, since the type is chosen
by ``event.dataset``. Any other validator is refused at import rather than silently skipped."""
_SCALARS: frozenset[type] = frozenset({str, int, float, bool, datetime.datetime})
_IMMUTABLE: frozenset[type] = frozenset({str, int, float, bool, bytes})
"""Default values a factory may hand out as they are (exact types: a subclass may be mutable)."""
_CONSTRAINTS = ("ge", "gt", "le", "lt", "multiple_of", "min_length", "max_length", "pattern")

_STRUCTS: dict[type[BaseModel], type[Any]] = {}


def struct_for(model: type[BaseModel]) -> type[Any]:
    """The msgspec Struct that validates what ``model`` validates; built once per model.

    Unknown fields are ignored (as the contract's ``extra="ignore"``); aliases become wire names;
    defaults and default factories are carried over so optional stays optional."""
    if model not in _STRUCTS:
        _refuse_unknown_validators(model)
        fields = [_field_for(name, info) for name, info in model.model_fields.items()]
        _STRUCTS[model] = msgspec.defstruct(
            f"{model.__name__}Wire",
            fields,
            kw_only=True,
            forbid_unknown_fields=False,
            omit_defaults=True,
            module=__name__,
        )
    return _STRUCTS[model]


def _refuse_unknown_validators(model: type[BaseModel]) -> None:
    decorators = model.__pydantic_decorators__
    names = {*decorators.model_validators, *decorators.field_validators, *decorators.validators}
    names |= set(decorators.root_validators)
    if unknown := names - _KNOWN_VALIDATORS:
        raise TypeError(f"{model.__name__} has validators the wire types cannot check: {sorted(unknown)}")


def _field_for(name: str, info: FieldInfo) -> tuple[str, Any, Any]:
    wire_type = _wire_type(info.annotation, info.metadata)
    wire_name = info.alias or name
    if info.is_required():
        return name, wire_type, msgspec.field(name=wire_name)
    if info.default_factory is not None:
        return name, wire_type, msgspec.field(name=wire_name, default_factory=_factory(info.default_factory))
    default = info.default
    if default is None:  # the only default omit_defaults may leave out: pydantic's exclude_none does too
        return name, wire_type, msgspec.field(name=wire_name, default=None)
    # A factory keeps the value in the encoding. A mutable default is copied at each call, so no two events
    # share it; an immutable one (``event.module``, ``ecs.version``: one of these per event) is not.
    if type(default) in _IMMUTABLE:
        return name, wire_type, msgspec.field(name=wire_name, default_factory=lambda: default)
    return name, wire_type, msgspec.field(name=wire_name, default_factory=lambda: copy.deepcopy(default))


def _factory(factory: Callable[..., Any]) -> Callable[[], Any]:
    made = struct_for(factory) if isinstance(factory, type) and issubclass(factory, BaseModel) else factory
    # Wrapped: msgspec's omit_defaults leaves out an empty list or dict whose factory is ``list`` or ``dict``.
    return lambda: made()


def _wire_type(annotation: Any, metadata: Iterable[Any] = ()) -> Any:
    """Translate one annotation; ``metadata`` holds the constraints pydantic lifted off an ``Annotated``."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        return _wire_type(args[0], [*metadata, *args[1:]])
    if origin is typing.Union or origin is types.UnionType:
        arms = [_wire_type(arm, () if arm is type(None) else metadata) for arm in args]
        return functools.reduce(operator.or_, arms)
    if origin is list:
        return _constrained(list[_wire_type(args[0])], metadata)  # type: ignore[misc]
    if origin is dict:
        return _constrained(dict[_wire_type(args[0]), _wire_type(args[1])], metadata)  # type: ignore[misc]
    if annotation in _SCALARS:
        return _constrained(annotation, metadata)
    if _meta(metadata) is not None:
        raise TypeError(f"no msgspec translation for constraints on {annotation!r}")
    if origin is Literal or annotation is type(None) or annotation is Any:
        return annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return struct_for(annotation)
    if isinstance(annotation, type) and issubclass(annotation, enum.StrEnum):
        return Literal[tuple(member.value for member in annotation)]
    # A contract change this translator does not know must not silently validate less.
    raise TypeError(f"no msgspec translation for contract annotation {annotation!r}")


def _constrained(wire_type: Any, metadata: Iterable[Any]) -> Any:
    meta = _meta(metadata)
    return Annotated[wire_type, meta] if meta is not None else wire_type


def _meta(metadata: Iterable[Any]) -> msgspec.Meta | None:
    constraints: dict[str, Any] = {}
    for item in _flatten(metadata):
        found = {key: getattr(item, key) for key in _CONSTRAINTS if getattr(item, key, None) is not None}
        if not found:
            raise TypeError(f"no msgspec translation for contract constraint {item!r}")
        constraints.update(found)
    if "pattern" in constraints:
        constraints["pattern"] = _python_pattern(constraints["pattern"])
    return msgspec.Meta(**constraints) if constraints else None


def _flatten(metadata: Iterable[Any]) -> Iterable[Any]:
    for item in metadata:
        if isinstance(item, FieldInfo):  # Annotated[str, Field(pattern=...)] nests its constraints
            yield from _flatten(item.metadata)
        else:
            yield item


def _python_pattern(pattern: str) -> str:
    """pydantic matches with Rust's regex, where ``$`` is the very end; in Python ``$`` also matches before
    a final newline, which would let ``"0755\\n"`` through. ``\\Z`` is Rust's ``$``."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + r"\Z"
    return pattern


STRUCT_BY_DATASET: dict[str, type[Any]] = {
    dataset: struct_for(model) for dataset, model in MODEL_BY_DATASET.items()
}
"""The wire type of each ``event.dataset``."""

encode_struct: Callable[[Any], bytes] = msgspec.json.Encoder().encode
"""The JSON form of a wire Struct: byte for byte what :func:`event_contract.encode_event` gives for the
same event, up to the spelling of floats and escapes (equal once parsed)."""
