"""RE2 compilation: linear-time matching whatever the rule author or the event sender wrote."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import re2

from collector.detection.errors import RuleCompileError

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a rejected pattern becomes a RuleLoadError, not a line on stderr
_OPTIONS.never_capture = True  # matchers only ask "does it match", which RE2 answers fastest without groups

# google-re2's public search() decodes match offsets back to str positions through a generator and a
# Match object, several microseconds per call that matchers never use. When the binding exposes its
# native RE2 object (all 1.x releases do), call it directly; otherwise fall back to the public API.
_ANCHOR = getattr(re2, "_Anchor", None)
_NO_MATCH = (-1, -1)


class Re2:
    """One compiled pattern answering only "does it match"; thread-safe like RE2 itself."""

    __slots__ = ("_native", "_public", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        try:
            self._public: Any = re2.compile(pattern, _OPTIONS)
        except re2.error as error:
            raw = error.args[0] if error.args else error
            detail = raw.decode() if isinstance(raw, bytes) else str(raw)
            raise RuleCompileError(
                f"regular expression {pattern!r} is not supported by RE2: {detail}"
            ) from None
        native = getattr(self._public, "_regexp", None)
        self._native: Callable[..., Any] | None = (
            native.Match if _ANCHOR is not None and native is not None else None
        )

    def search(self, text: str) -> bool:
        """The pattern matches somewhere in ``text``."""
        if self._native is None:
            return self._public.search(text) is not None
        encoded = text.encode("utf-8", "surrogatepass")
        return bool(self._native(_ANCHOR.UNANCHORED, encoded, 0, len(encoded))[0] != _NO_MATCH)  # type: ignore[union-attr]

    def fullmatch(self, text: str) -> bool:
        """The pattern matches all of ``text``."""
        if self._native is None:
            return self._public.fullmatch(text) is not None
        encoded = text.encode("utf-8", "surrogatepass")
        return bool(self._native(_ANCHOR.ANCHOR_BOTH, encoded, 0, len(encoded))[0] != _NO_MATCH)  # type: ignore[union-attr]


def compile_re2(pattern: str) -> Re2:
    """Compile with RE2; :class:`RuleCompileError` names the pattern when RE2 rejects it."""
    return Re2(pattern)


def escape(literal: str) -> str:
    return str(re2.escape(literal))
