"""Immutable value classes for the listener process, without ``dataclasses``.

``dataclasses`` imports ``inspect`` (and with it ``ast``, ``dis``, ``tokenize``, ``typing``): ~1.8 MiB
of RSS in a process that is otherwise ~10.5 MiB. A :class:`Record` subclass lists its fields in
``_fields`` (in order; ``__slots__ = _fields``), annotates them, and sets them in its ``__init__``
through :meth:`Record._set`, whose arguments follow ``_fields``; equality, hashing, ``repr``, copying
and pickling come from here, and the listener's channel finds a record's class by name
(:func:`record_class`). ``__init__`` must accept the fields positionally in ``_fields`` order: the
channel and unpickling call it that way.
"""

from __future__ import annotations

from operator import attrgetter

# Not ``typing.TYPE_CHECKING``: importing typing would cost the listener ~0.4 MiB; mypy knows the name.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import ClassVar, Self


_CLASSES: dict[str, Callable[..., Record]] = {}


def record_class(name: str) -> Callable[..., Record]:
    """The record class of that name (the listener's channel names classes); ``ValueError`` if none."""
    try:
        return _CLASSES[name]
    except KeyError:
        raise ValueError(f"no record class {name!r}") from None


class Record:
    _fields: tuple[str, ...] = ()
    _get: ClassVar[Callable[[Record], tuple[object, ...]]]
    __slots__ = ()

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        if cls.__name__ in _CLASSES:  # the channel could not tell them apart
            raise TypeError(f"another record class is named {cls.__name__}")
        _CLASSES[cls.__name__] = cls
        # In C, one call for all fields (the channel reads the values of every record it sends).
        getter = attrgetter(*cls._fields)
        cls._get = staticmethod(getter if len(cls._fields) > 1 else lambda record: (getter(record),))

    def _set(self, *values: object) -> None:
        for name, value in zip(self._fields, values, strict=True):
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[object, ...]:
        """The fields' values in ``_fields`` order."""
        return type(self)._get(self)

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
