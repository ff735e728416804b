"""The collector's fast event decoder: msgspec types generated from the pydantic wire contract.

The contract (:mod:`event_contract`) stays the one definition of the schema; :mod:`event_contract.wire`
translates every contract model into a :class:`msgspec.Struct` with the same fields, types, constraints,
defaults and wire names. On the hot path orjson parses the message once (the pipeline needs the document
as sent) and msgspec validates that document in C, about three times faster than pydantic's validation.

Equivalence with :func:`event_contract.decode_event_document` is the guarantee:

* whatever msgspec accepts, the contract accepts (the generated types are never looser: the unit tests
  check it on every event type, on every constraint and on randomly mutated events);
* pydantic's lax mode accepts a few spellings msgspec refuses (``true`` or ``" 5 "`` for an int, a bare
  date or epoch milliseconds for a timestamp, ``timestamp`` for ``@timestamp``). Those are rare and only
  an odd agent sends them, so a message msgspec refuses is asked of the contract before it is refused:
  the verdict is always the contract's, and only bad input pays for the second opinion.
"""

from __future__ import annotations

import re
import typing
from typing import Any

import msgspec
import orjson

from event_contract import DecodeError, decode_event_document
from event_contract.codec import MAX_MESSAGE_BYTES
from event_contract.events import MODEL_BY_DATASET
from event_contract.wire import STRUCT_BY_DATASET, struct_for

__all__ = ["decode", "refusal", "struct_for"]


# --- the decoder ----------------------------------------------------------------------------------------


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
    struct = STRUCT_BY_DATASET.get(dataset) if isinstance(dataset, str) else None
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
