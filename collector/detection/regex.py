"""RE2 compilation: linear-time matching whatever the rule author or the event sender wrote."""

from __future__ import annotations

from typing import Any

import re2

from collector.detection.errors import RuleCompileError

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a rejected pattern becomes a RuleLoadError, not a line on stderr
_OPTIONS.never_capture = True  # matchers only ask "does it match", which RE2 answers fastest without groups

Pattern = Any
"""A compiled RE2 pattern (``re2._Regexp``; the module ships no type information)."""


def compile_re2(pattern: str) -> Pattern:
    """Compile with RE2; :class:`RuleCompileError` names the pattern when RE2 rejects it."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as error:
        detail = error.args[0].decode() if error.args and isinstance(error.args[0], bytes) else str(error)
        raise RuleCompileError(f"regular expression {pattern!r} is not supported by RE2: {detail}") from None


def escape(literal: str) -> str:
    return str(re2.escape(literal))
