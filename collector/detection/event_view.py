"""Read-only access to one decoded event, with field lookups and their normalised forms cached.

Matchers ask for a field many times per event (once per rule that names it); the view looks each field up
once, flattens list values (``process.args``: any element may match) and keeps the lower-cased text that
case-insensitive matching and the literal pre-filter share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldRef:
    """A field named by its dotted ECS path, split once when the rule is compiled."""

    dotted: str
    parts: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", tuple(self.dotted.split(".")))


def _collect(node: Any, parts: tuple[str, ...], index: int, out: list[Any]) -> None:
    if index == len(parts):
        if isinstance(node, list):
            out.extend(item for item in node if item is not None)
        elif node is not None:
            out.append(node)
        return
    if isinstance(node, Mapping):
        child = node.get(parts[index])
        if child is not None:
            _collect(child, parts, index + 1, out)
    elif isinstance(node, list):  # arrays of objects: a match in any element counts
        for item in node:
            _collect(item, parts, index, out)


def lookup(event: Mapping[str, Any], ref: FieldRef) -> tuple[Any, ...]:
    """The non-null values at ``ref`` in nested ``event``; a literal dotted top-level key also counts."""
    node: Any = event
    for part in ref.parts:  # fast path: plain nested dicts, as decoded JSON is
        if type(node) is not dict:
            break
        node = node.get(part)
    else:
        if node is None:
            return _absent_or_flat(event, ref)
        if type(node) is str:
            return (node,)
    found: list[Any] = []
    _collect(event, ref.parts, 0, found)
    if not found:
        return _absent_or_flat(event, ref)
    return tuple(found)


def _absent_or_flat(event: Mapping[str, Any], ref: FieldRef) -> tuple[Any, ...]:
    found: list[Any] = []
    if len(ref.parts) > 1:
        _collect(event.get(ref.dotted), (), 0, found)
    return tuple(found)


def as_text(value: Any) -> str | None:
    """The string a Sigma string pattern is compared with; ``None`` for objects, which never match one."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


_NOT_A_DICT = object()


def _walk_dicts(event: Mapping[str, Any], ref: FieldRef) -> Any:
    """The value at ``ref`` when every step is a plain dict (as decoded JSON is); ``None`` when a step is
    absent or null there; ``_NOT_A_DICT`` when a list or other object is in the way (the general lookup
    handles it)."""
    node: Any = event
    for part in ref.parts:
        if type(node) is not dict:
            return _NOT_A_DICT
        node = node.get(part)
        if node is None:  # most fields a route's rules name are absent from a given event
            return None
    return node


class EventView:
    """One event as matchers see it. Not thread-safe; create one per event (cheap)."""

    __slots__ = ("_texts", "_values", "event", "lowered_texts")

    def __init__(self, event: Mapping[str, Any]) -> None:
        self.event = event
        self._values: dict[str, tuple[Any, ...]] = {}
        self._texts: dict[str, tuple[str, ...]] = {}
        # What lowered() has computed, by dotted name; public so hot paths (the pre-filter's inlined walk,
        # string matchers) skip a method call. Whatever is stored must equal what lowered() returns.
        self.lowered_texts: dict[str, tuple[str, ...]] = {}

    def values(self, ref: FieldRef) -> tuple[Any, ...]:
        """Raw non-null values, lists flattened; empty when the field is absent or null."""
        cached = self._values.get(ref.dotted)
        if cached is None:
            cached = self._values[ref.dotted] = lookup(self.event, ref)
        return cached

    def texts(self, ref: FieldRef) -> tuple[str, ...]:
        """Values as strings (numbers and booleans rendered), objects left out."""
        cached = self._texts.get(ref.dotted)
        if cached is None:
            node = _walk_dicts(self.event, ref)
            if type(node) is str:  # the usual case, kept off the general path
                cached = (node,)
            elif node is None and ref.dotted not in self.event:
                cached = ()
            else:
                cached = tuple(text for text in map(as_text, self.values(ref)) if text is not None)
            self._texts[ref.dotted] = cached
        return cached

    def lowered(self, ref: FieldRef) -> tuple[str, ...]:
        """:meth:`texts` lower-cased, for case-insensitive matching."""
        cached = self.lowered_texts.get(ref.dotted)
        if cached is not None:
            return cached
        # _walk_dicts inlined: the pre-filter calls this for every field its route's rules name
        node: Any = self.event
        for part in ref.parts:
            if type(node) is not dict:
                node = _NOT_A_DICT
                break
            node = node.get(part)
            if node is None:
                break
        if type(node) is str:
            cached = (node.lower(),)
        elif node is None and ref.dotted not in self.event:
            cached = ()
        else:  # lists, numbers, flat dotted keys, objects inside arrays: the general path
            cached = tuple(text.lower() for text in self.texts(ref))
        self.lowered_texts[ref.dotted] = cached
        return cached
