"""A literal every match of a regular expression contains, so ``|re`` rules can join the pre-filter.

Without it a rule whose only selective test is a regex has no requirement and runs on every event of its
route. The pattern is parsed with Python's own regex parser; only characters that are plain, mandatory
items of the top-level sequence count (nothing inside groups, repeats, alternations or classes), so a
match must contain each run of them verbatim. Where Python's and RE2's syntax could disagree about what
is a literal, the answer is "" (no literal): RE2-only constructs such as ``\\pL`` or ``\\Q...\\E`` fail
Python's parse, and POSIX classes (``[[:alpha:]]``), which Python would read as a class followed by a
literal ``]``, are refused outright.

The pre-filter compares with lower-cased event text, so the literal is lower-cased and kept to printable
ASCII, whose lower-casing does not depend on neighbouring characters. Under ``(?i)`` RE2 also folds ``s``
with U+017F (long s), whose lower case is not ``s``, so runs are cut at ``s`` there.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

# The stdlib's regex parser, stable through 3.11-3.13; imported by name because typeshed versions
# disagree on whether it is declared.
_parser: Any = importlib.import_module("re._parser")

_LITERAL = _parser.LITERAL
_FIRST_PRINTABLE, _LAST_PRINTABLE = 0x20, 0x7E


def required_literal(pattern: str) -> str:
    """The longest lower-cased substring every text that ``pattern`` searches successfully contains;
    "" when none can be proven (which is always a safe answer)."""
    if "[:" in pattern:
        return ""
    try:
        parsed: Any = _parser.parse(pattern)
    except (re.error, RecursionError, OverflowError, ValueError):
        return ""
    flags = int(parsed.state.flags)
    if flags & re.VERBOSE:
        return ""
    folded = bool(flags & re.IGNORECASE)
    runs: list[str] = []
    current: list[str] = []
    for opcode, argument in parsed:
        character = chr(argument) if opcode is _LITERAL else ""
        if _usable(character, folded=folded):
            current.append(character.lower())
            continue
        runs.append("".join(current))
        current = []
    runs.append("".join(current))
    return max(runs, key=len)


def _usable(character: str, *, folded: bool) -> bool:
    if len(character) != 1 or not _FIRST_PRINTABLE <= ord(character) <= _LAST_PRINTABLE:
        return False
    return not (folded and character.lower() == "s")
