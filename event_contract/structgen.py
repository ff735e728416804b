"""Translate pydantic models into msgspec Structs with the same fields, types, constraints and defaults.

The pydantic models stay the one definition of a schema; a :class:`Translator` derives from them the
Structs that validate and encode the same data in C. The agent must not load pydantic (~19 MiB of RSS),
so it uses the Structs as checked-in source (:mod:`event_contract.structsource` writes them, a unit test
regenerates them and fails on any difference); the collector and the tests may translate at run time.

A translation is never looser than the model: a constraint, type or validator it does not know is refused
with :class:`TypeError` rather than silently not checked.
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
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from event_contract.secret import Secret

_SCALARS: frozenset[type] = frozenset({str, int, float, bool, datetime.datetime, Path})
_CONSTRAINTS = ("ge", "gt", "le", "lt", "multiple_of", "min_length", "max_length", "pattern")
_IMMUTABLE = (str, int, float, bool, type(None), Path, enum.Enum, tuple)
_EXACT_IMMUTABLE: frozenset[type] = frozenset({str, int, float, bool, bytes})
"""Default values a factory may hand out as they are (exact types: a subclass may be mutable)."""


class Translator:
    """One family of Structs: their options, name suffix, module, and the validators they reproduce.

    ``known_validators`` names the models' validators whose rule the users of these Structs apply
    themselves (and say so where they do); any other validator is refused. ``bases`` gives a model (by
    its name) field-less Struct bases carrying methods, e.g. the Kafka password reader."""

    def __init__(
        self,
        *,
        suffix: str,
        module: str,
        known_validators: Iterable[str] = (),
        bases: dict[str, tuple[type[msgspec.Struct], ...]] | None = None,
        **options: Any,
    ) -> None:
        self.suffix = suffix
        self.module = module
        self.options = options
        self.known_validators = frozenset(known_validators)
        self.bases = bases or {}
        self.omit_defaults = options.get("omit_defaults", False)
        self._structs: dict[type[BaseModel], type[Any]] = {}

    def struct_for(self, model: type[BaseModel]) -> type[Any]:
        """The Struct that validates what ``model`` validates; built once per model.

        Aliases become wire names; defaults and default factories are carried over so optional stays
        optional."""
        if model not in self._structs:
            self._refuse_unknown_validators(model)
            fields = [self._field_for(name, info) for name, info in model.model_fields.items()]
            self._structs[model] = msgspec.defstruct(
                f"{model.__name__}{self.suffix}",
                fields,
                bases=self.bases.get(model.__name__, ()),
                kw_only=True,
                module=self.module,
                **self.options,
            )
        return self._structs[model]

    def translated(self) -> list[type[Any]]:
        """Every Struct built so far, each after the Structs its fields use."""
        return list(self._structs.values())

    def _refuse_unknown_validators(self, model: type[BaseModel]) -> None:
        decorators = model.__pydantic_decorators__
        names = {*decorators.model_validators, *decorators.field_validators, *decorators.validators}
        names |= set(decorators.root_validators)
        if unknown := names - self.known_validators:
            raise TypeError(f"{model.__name__} has validators the wire types cannot check: {sorted(unknown)}")

    def _field_for(self, name: str, info: FieldInfo) -> tuple[str, Any, Any]:
        wire_type = self._type(info.annotation, info.metadata)
        wire_name = info.alias or name
        if info.is_required():
            return name, wire_type, msgspec.field(name=wire_name)
        if info.default_factory is not None:
            factory = self._factory(info.default_factory)
            return name, wire_type, msgspec.field(name=wire_name, default_factory=factory)
        default = info.default
        if default is None or (not self.omit_defaults and isinstance(default, _IMMUTABLE)):
            # Under omit_defaults only None may be left out (as pydantic's exclude_none leaves it out).
            return name, wire_type, msgspec.field(name=wire_name, default=_plain(default))
        # A factory keeps the value in the encoding. A mutable default is copied at each call, so no two
        # events share it; an immutable one (``event.module``, ``ecs.version``: one per event) is not.
        if type(default) in _EXACT_IMMUTABLE:
            return name, wire_type, msgspec.field(name=wire_name, default_factory=lambda: default)
        return name, wire_type, msgspec.field(name=wire_name, default_factory=lambda: copy.deepcopy(default))

    def _factory(self, factory: Callable[..., Any]) -> Callable[[], Any]:
        if isinstance(factory, type) and issubclass(factory, BaseModel):
            made: Callable[[], Any] = self.struct_for(factory)
        else:
            made = factory
        # Wrapped: omit_defaults leaves out an empty list or dict whose factory is ``list`` or ``dict``; and
        # a factory making models must make Structs.
        return lambda: self._value(made())

    def _value(self, value: Any) -> Any:
        if isinstance(value, BaseModel):
            struct = self.struct_for(type(value))
            return struct(**{name: self._value(getattr(value, name)) for name in type(value).model_fields})
        if isinstance(value, list):
            return [self._value(item) for item in value]
        if isinstance(value, dict):
            return {key: self._value(item) for key, item in value.items()}
        return _plain(value)

    def _type(self, annotation: Any, metadata: Iterable[Any] = ()) -> Any:
        """Translate one annotation; ``metadata`` holds the constraints pydantic lifted off ``Annotated``."""
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is Annotated:
            return self._type(args[0], [*metadata, *args[1:]])
        if origin is typing.Union or origin is types.UnionType:
            arms = [self._type(arm, () if arm is type(None) else metadata) for arm in args]
            return functools.reduce(operator.or_, arms)
        if origin is list:
            return _constrained(list[self._type(args[0])], metadata)  # type: ignore[misc]
        if origin is dict:
            return _constrained(dict[self._type(args[0]), self._type(args[1])], metadata)  # type: ignore[misc]
        if annotation in _SCALARS:
            return _constrained(annotation, metadata)
        if _meta(metadata) is not None:
            raise TypeError(f"no msgspec translation for constraints on {annotation!r}")
        if origin is Literal or annotation is type(None) or annotation is Any:
            return annotation
        if annotation is SecretStr:
            return Secret
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return self.struct_for(annotation)
        if isinstance(annotation, type) and issubclass(annotation, enum.StrEnum):
            return Literal[tuple(member.value for member in annotation)]
        # A contract change this translator does not know must not silently validate less.
        raise TypeError(f"no msgspec translation for contract annotation {annotation!r}")


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.StrEnum) else value


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
