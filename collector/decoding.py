"""The collector's fast event decoder: msgspec types generated from the pydantic wire contract.

The contract (:mod:`event_contract`) stays the one definition of the schema. At import time every contract
model is translated into a :class:`msgspec.Struct` with the same fields, types, constraints, defaults and
wire names. On the hot path orjson parses the message once (the pipeline needs the document as sent) and
msgspec validates that document in C, about three times faster than pydantic's validation.

Equivalence with :func:`event_contract.decode_event_document` is the guarantee:

* whatever msgspec accepts, the contract accepts (the generated types are never looser: the unit tests
  check it on every event type, on every constraint and on randomly mutated events);
* pydantic's lax mode accepts a few spellings msgspec refuses (``true`` or ``" 5 "`` for an int, a bare
  date or epoch milliseconds for a timestamp, ``timestamp`` for ``@timestamp``). Those are rare and only
  an odd agent sends them, so a message msgspec refuses is asked of the contract before it is refused:
  the verdict is always the contract's, and only bad input pays for the second opinion.
"""

from __future__ import annotations

import copy
import datetime
import enum
import functools
import operator
import re
import types
import typing
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal

import msgspec
import orjson
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from event_contract import DecodeError, decode_event_document
from event_contract.codec import MAX_MESSAGE_BYTES
from event_contract.events import MODEL_BY_DATASET

__all__ = ["decode", "refusal", "struct_for"]

_KNOWN_VALIDATORS = frozenset({"_dataset_matches_type"})
"""Contract validators this decoder reproduces: the dataset check holds by construction, since the type is
chosen by ``event.dataset``. Any other validator is refused at import rather than silently skipped."""
_SCALARS: frozenset[type] = frozenset({str, int, float, bool, datetime.datetime})
_CONSTRAINTS = ("ge", "gt", "le", "lt", "multiple_of", "min_length", "max_length", "pattern")


# --- pydantic model -> msgspec type ---------------------------------------------------------------------


_STRUCTS: dict[type[BaseModel], type[Any]] = {}


def struct_for(model: type[BaseModel]) -> type[Any]:
    """The msgspec Struct that validates what ``model`` validates; built once per model.

    Unknown fields are ignored (as the contract's ``extra="ignore"``); aliases become wire names;
    defaults and default factories are carried over so optional stays optional."""
    if model not in _STRUCTS:
        _refuse_unknown_validators(model)
        fields = [_field_for(name, info) for name, info in model.model_fields.items()]
        _STRUCTS[model] = msgspec.defstruct(
            f"{model.__name__}Wire", fields, kw_only=True, forbid_unknown_fields=False, module=__name__
        )
    return _STRUCTS[model]


def _refuse_unknown_validators(model: type[BaseModel]) -> None:
    decorators = model.__pydantic_decorators__
    names = {*decorators.model_validators, *decorators.field_validators, *decorators.validators}
    names |= set(decorators.root_validators)
    if unknown := names - _KNOWN_VALIDATORS:
        raise TypeError(f"{model.__name__} has validators the fast decoder does not check: {sorted(unknown)}")


def _field_for(name: str, info: FieldInfo) -> tuple[str, Any, Any]:
    wire_type = _wire_type(info.annotation, info.metadata)
    wire_name = info.alias or name
    if info.is_required():
        return name, wire_type, msgspec.field(name=wire_name)
    if info.default_factory is not None:
        return name, wire_type, msgspec.field(name=wire_name, default_factory=_factory(info.default_factory))
    default = info.default
    if isinstance(default, list | dict | set):  # msgspec refuses mutable defaults: give each decode a copy
        return name, wire_type, msgspec.field(name=wire_name, default_factory=lambda: copy.deepcopy(default))
    return name, wire_type, msgspec.field(name=wire_name, default=default)


def _factory(factory: Callable[..., Any]) -> Callable[[], Any]:
    if isinstance(factory, type) and issubclass(factory, BaseModel):
        return typing.cast(Callable[[], Any], struct_for(factory))
    return typing.cast(Callable[[], Any], factory)


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


# --- the decoder ----------------------------------------------------------------------------------------


_STRUCT_BY_DATASET: dict[str, type[Any]] = {
    dataset: struct_for(model) for dataset, model in MODEL_BY_DATASET.items()
}
_KNOWN = ", ".join(sorted(MODEL_BY_DATASET))


def decode(data: bytes) -> dict[str, Any]:
    """Parse and validate one message value; return the JSON document exactly as sent.

    Accepts and refuses exactly what :func:`event_contract.decode_event_document` does; unknown fields are
    kept in the document (for indexing) though not validated. Raises :class:`DecodeError` whose reason
    names the offending field, e.g. ``event.sequence: Expected `int` >= 0``."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise DecodeError(f"message is {len(data)} bytes; the limit is {MAX_MESSAGE_BYTES}")
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise DecodeError(f"not JSON: {error}") from None
    reason = refusal(document)
    if reason is None:
        return typing.cast(dict[str, Any], document)
    # msgspec is stricter than pydantic's lax mode in a few spellings: the contract has the last word.
    try:
        decode_event_document(data)
    except DecodeError as contract_refusal:
        # Where msgspec cannot name the dict key, the contract's reason (computed anyway) can.
        raise DecodeError(contract_refusal.reason if _names_some_key(reason) else reason) from None
    return typing.cast(dict[str, Any], document)


def refusal(document: Any) -> str | None:
    """Why msgspec alone refuses a parsed JSON document (``None`` if it accepts it).

    Whatever it accepts, the contract accepts. Validating the parsed document (which the pipeline needs
    anyway) measured faster than a typed decode of the bytes followed by a parse for the document."""
    if not isinstance(document, dict):
        return f"expected a JSON object, got {type(document).__name__}"
    meta = document.get("event")
    dataset = meta.get("dataset") if isinstance(meta, dict) else None
    struct = _STRUCT_BY_DATASET.get(dataset) if isinstance(dataset, str) else None
    if struct is None:
        return f"event.dataset is {dataset!r}; expected one of: {_KNOWN}"
    try:
        msgspec.convert(document, struct)
    except msgspec.ValidationError as error:
        return _describe(str(error))
    return None


_AT_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")
_SOME_KEY = "*"
"""msgspec does not say which key of a ``dict[str, X]`` held the bad value (its path shows ``[...]``)."""


def _describe(message: str) -> str:
    """``Expected `int` >= 0 - at `$.event.sequence``` -> ``event.sequence: Expected `int` >= 0``."""
    match = _AT_PATH.match(message)
    text, path = (match["message"], match["path"] or "") if match else (message, "")
    steps = [name or (_SOME_KEY if index == "..." else index) for name, index in _STEP.findall(path)]
    if missing := _MISSING.match(text):
        steps.append(missing["field"])
        text = "Field required"
    return f"{'.'.join(steps) or '(document)'}: {text}"


def _names_some_key(reason: str) -> bool:
    return _SOME_KEY in reason.partition(": ")[0].split(".")
