"""A secret string that never shows in a repr, a log line or a dump, and the hooks msgspec needs for it.

The msgspec counterpart of pydantic's ``SecretStr`` (which the configuration models declare): the value
is read with :meth:`Secret.get_secret_value` only where it is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MASK = "**********"
"""What a secret looks like wherever it is shown (pydantic's ``SecretStr`` dump, too)."""


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def dec_hook(kind: type, value: Any) -> Any:
    """``msgspec.convert`` of the types it does not know itself: paths and secrets, from strings (or from
    a pydantic ``SecretStr``, duck-typed so pydantic need not be loaded)."""
    if kind is Path and isinstance(value, str | Path):
        return Path(value)
    if kind is Secret:
        if isinstance(value, str):
            return Secret(value)
        if isinstance(value, Secret):
            return value
        if callable(getattr(value, "get_secret_value", None)):
            return Secret(value.get_secret_value())
    raise ValueError(f"Expected `{kind.__name__}`, got `{type(value).__name__}`")


def enc_hook(value: Any) -> Any:
    """``msgspec.to_builtins`` of paths (as text) and secrets (masked)."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Secret):
        return MASK
    raise NotImplementedError(f"cannot encode {type(value).__name__}")
