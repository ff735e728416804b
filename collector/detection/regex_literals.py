"""Literals one of which every match of a regular expression contains, so ``|re`` rules can join the
pre-filter; and the shortest text a match can span, so a regex need not run on shorter texts.

Without them a rule whose only selective test is a regex has no requirement and runs on every event of
its route. The pattern is parsed with Python's own regex parser; only mandatory items of the top-level
sequence count, and only those that can match nothing but a few literal strings: plain characters,
classes of plain characters (``[WR]``), and groups or alternations of such sequences (``-(W|R)``,
``\\.(?:exe|dll)``); a run of them is expanded into its alternatives (at most a few). Repeats, optional
items, ranges, categories and flag-changing groups cut runs. Where Python's and RE2's syntax could
disagree about what is a literal, the answer is ``()`` (no literal): RE2-only constructs such as ``\\pL``
or ``\\Q...\\E`` fail Python's parse, and POSIX classes (``[[:alpha:]]``), which Python would read as a
class followed by a literal ``]``, are refused outright.

The pre-filter compares with lower-cased event text, so literals are lower-cased and kept to printable
ASCII, whose lower-casing does not depend on neighbouring characters. Under ``(?i)`` RE2 also folds ``s``
with U+017F (long s), whose lower case is itself, not ``s``: there ``s`` stands for two alternatives,
``s`` and ``ſ`` (``(?i)set`` needs ``set`` or ``ſet`` in the lower-cased text).
"""

from __future__ import annotations

import importlib
import re
from typing import Any

# The stdlib's regex parser, stable through 3.11-3.13; imported by name because typeshed versions
# disagree on whether it is declared.
_parser: Any = importlib.import_module("re._parser")

_LITERAL = _parser.LITERAL
_IN = _parser.IN
_BRANCH = _parser.BRANCH
_SUBPATTERN = _parser.SUBPATTERN
_REPEATS = (_parser.MAX_REPEAT, _parser.MIN_REPEAT)
_MAX_ALTERNATIVES = 16  # a run with more alternatives than this is cut: each one costs a literal
_FIRST_PRINTABLE, _LAST_PRINTABLE = 0x20, 0x7E
_LONG_S = "\u017f"  # RE2 folds it with s under (?i)


def required_literal(pattern: str) -> tuple[str, ...]:
    """The most selective of :func:`required_runs`: the run whose shortest alternative is longest;
    ``()`` when none can be proven."""
    return max(required_runs(pattern), key=lambda run: (min(map(len, run)), -len(run)), default=())


def required_runs(pattern: str) -> list[tuple[str, ...]]:
    """Every run of the top-level sequence, as lower-cased alternatives: a match contains one
    alternative of each run (runs are all mandatory, so all of them hold at once). A run is a stretch of
    mandatory items, each a literal character, a class of a few literal characters (``[WR]``) or a group
    of literal alternatives (``(exe|dll)``). ``[]`` when none can be proven (always a safe answer)."""
    if "[:" in pattern:
        return []
    try:
        parsed: Any = _parser.parse(pattern)
    except (re.error, RecursionError, OverflowError, ValueError):
        return []
    flags = int(parsed.state.flags)
    if flags & re.VERBOSE:
        return []
    folded = bool(flags & re.IGNORECASE)
    runs: list[list[str]] = []
    current = [""]
    for opcode, argument in parsed:
        choices = _choices(opcode, argument, folded=folded)
        if choices is not None and len(current) * len(choices) <= _MAX_ALTERNATIVES:
            current = [before + after for before in current for after in choices]
            continue
        runs.append(current)
        current = choices if choices is not None else [""]
    runs.append(current)
    return [tuple(sorted(set(run))) for run in runs if min(map(len, run)) > 0]


def minimum_length(pattern: str) -> int:
    """The fewest characters any match of ``pattern`` spans; ``0`` when that cannot be proven (always a
    safe answer). Same parser and refusals as :func:`required_runs`; where the two syntaxes differ on a
    pattern RE2 accepts, Python reads no more than RE2 does (``a{,3}`` is a repeat to Python, three more
    literal characters to RE2), so the bound never exceeds RE2's."""
    if "[:" in pattern:
        return 0
    try:
        parsed: Any = _parser.parse(pattern)
        if int(parsed.state.flags) & re.VERBOSE:
            return 0
        shortest, _ = parsed.getwidth()
    except (re.error, RecursionError, OverflowError, ValueError, TypeError):
        return 0
    return max(0, int(shortest))


def _choices(opcode: Any, argument: Any, *, folded: bool) -> list[str] | None:
    """The texts one parsed item matches, if it can only match a few literal strings; else None."""
    if opcode is _LITERAL:
        return _lowered(chr(argument), folded=folded)
    if opcode is _IN:  # a class: only plain listed characters (no ranges, categories or negation)
        if not all(op is _LITERAL for op, _ in argument):
            return None
        characters: set[str] = set()
        for _, code in argument:
            lowered = _lowered(chr(code), folded=folded)
            if lowered is None:
                return None
            characters.update(lowered)
        return sorted(characters) if len(characters) <= _MAX_ALTERNATIVES else None
    if opcode is _BRANCH:  # alternatives (?:a|b) that the parser left in the sequence
        alternatives: list[str] = []
        for branch in argument[1]:
            texts = _sequence(branch, folded=folded)
            if texts is None:
                return None
            alternatives.extend(texts)
        return alternatives if len(alternatives) <= _MAX_ALTERNATIVES else None
    if opcode in _REPEATS:  # a fixed count, e.g. [ "']{1}: the body that many times; a range is not literal
        low, high, body = argument
        return _sequence(list(body) * low, folded=folded) if low == high and 0 < low <= 4 else None
    if opcode is _SUBPATTERN:  # a group; one that changes flags, as (?i:...) does, is not followed
        _group, add_flags, del_flags, body = argument
        return None if add_flags or del_flags else _sequence(body, folded=folded)
    return None


def _sequence(items: Any, *, folded: bool) -> list[str] | None:
    """The texts a whole sequence matches, if every item is literal in the sense of :func:`_choices`."""
    texts = [""]
    for opcode, argument in items:
        choices = _choices(opcode, argument, folded=folded)
        if choices is None or len(texts) * len(choices) > _MAX_ALTERNATIVES:
            return None
        texts = [before + after for before in texts for after in choices]
    return texts


def _lowered(character: str, *, folded: bool) -> list[str] | None:
    """What the character is in lower-cased text that RE2 matched: printable ASCII only; under (?i) an
    ``s`` or ``S`` may also have matched U+017F, which lower-casing leaves as it is."""
    if len(character) != 1 or not _FIRST_PRINTABLE <= ord(character) <= _LAST_PRINTABLE:
        return None
    lowered = character.lower()
    return [lowered, _LONG_S] if folded and lowered == "s" else [lowered]
