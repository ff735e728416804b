"""Immutable value classes for the listener process, without ``dataclasses``.

``dataclasses`` imports ``inspect`` (and with it ``ast``, ``dis``, ``tokenize``, ``typing``): ~1.8 MiB
of RSS in a process that is otherwise ~11 MiB. A :class:`Record` subclass lists its fields in
``_fields`` (in order; ``__slots__ = _fields``), annotates them, and sets them in its ``__init__``
through :meth:`Record._set`, whose arguments follow ``_fields``; equality, hashing, ``repr`` and
pickling (the listener sends records to the agent) come from here. ``__init__`` must accept the fields
positionally in ``_fields`` order: unpickling calls it that way.
"""

from __future__ import annotations

# Not ``typing.TYPE_CHECKING``: importing typing would cost the listener ~0.4 MiB; mypy knows the name.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Self


class Record:
    _fields: tuple[str, ...] = ()
    __slots__ = ()

    def _set(self, *values: object) -> None:
        for name, value in zip(self._fields, values, strict=True):
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def _replace(self, **changes: object) -> Self:
        """A copy with some fields changed (``dataclasses.replace``)."""
        values = {name: getattr(self, name) for name in self._fields} | changes
        return type(self)(*(values[name] for name in self._fields))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[type[Self], tuple[object, ...]]:
        return type(self), self._values()
