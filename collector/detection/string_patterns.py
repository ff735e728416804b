"""Sigma string values (wildcards ``*`` ``?``, ``\\`` escapes, ``|cased``) as fast string tests.

Most Sigma values are one literal with wildcards only at the ends (what ``contains``, ``startswith`` and
``endswith`` produce), so they become ``in`` / ``startswith`` / ``endswith`` on the lower-cased text; a list
of such values for one field becomes a single set lookup plus tuple-argument ``startswith``/``endswith``
calls. A value with inner ``*`` wildcards only is a :class:`Glob` (its pieces found in order); only a
value with a ``?`` wildcard falls back to an RE2 full match.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum, auto

from sigma.types import Placeholder, SigmaCasedString, SigmaString, SpecialChars

from collector.detection.errors import RuleCompileError
from collector.detection.regex import Re2, compile_re2, escape


class Shape(Enum):
    EXACT = auto()
    PREFIX = auto()
    SUFFIX = auto()
    CONTAINS = auto()
    ANY = auto()
    WILDCARD = auto()


@dataclass(frozen=True, slots=True)
class Glob:
    """A value whose only wildcards are ``*``: its literal pieces, in order; ``anchored_start`` when it does
    not begin with ``*`` (the first piece is a prefix), ``anchored_end`` likewise for the last piece."""

    pieces: tuple[str, ...]
    anchored_start: bool
    anchored_end: bool


def glob_matches(text: str, glob: Glob) -> bool:
    """``text`` matches ``glob``: each piece found leftmost after the previous one, which is enough (a
    later placement of a piece never leaves more room for the rest); anchored pieces at the ends."""
    pieces = glob.pieces
    start, stop, end = 0, len(pieces), len(text)
    if glob.anchored_start:
        if not text.startswith(pieces[0]):
            return False
        start, position = 1, len(pieces[0])
    else:
        position = 0
    if glob.anchored_end:
        end -= len(pieces[-1])
        if end < position or not text.endswith(pieces[-1]):
            return False
        stop -= 1
    for index in range(start, stop):
        found = text.find(pieces[index], position, end)
        if found < 0:
            return False
        position = found + len(pieces[index])
    return True


@dataclass(frozen=True, slots=True)
class StringPattern:
    """One Sigma string value. ``literal`` is lower-cased unless ``cased``; a WILDCARD value has a ``glob``
    (``*`` wildcards only) or else a ``regex``."""

    shape: Shape
    literal: str
    cased: bool
    regex: Re2 | None = None
    longest_literal: str = ""
    glob: Glob | None = None

    @property
    def required_literal(self) -> str:
        """A lower-cased substring every matching text contains ("" when there is none)."""
        return self.longest_literal.lower()


def to_pattern(value: SigmaString) -> StringPattern:
    """Classify a SigmaString; placeholders must have been expanded before."""
    cased = isinstance(value, SigmaCasedString)
    parts = list(value.s)
    if any(isinstance(part, Placeholder) for part in parts):
        raise RuleCompileError(f"value {value.original!r} has a placeholder left unexpanded")
    texts = [part for part in parts if isinstance(part, str)]
    longest = max(texts, key=len, default="")

    def fold(text: str) -> str:
        return text if cased else text.lower()

    multi = SpecialChars.WILDCARD_MULTI
    if not any(isinstance(part, SpecialChars) for part in parts):
        return StringPattern(Shape.EXACT, fold("".join(texts)), cased, longest_literal=longest)
    if all(part == multi for part in parts):
        return StringPattern(Shape.ANY, "", cased)
    if len(parts) == 2 and isinstance(parts[0], str) and parts[1] == multi:
        return StringPattern(Shape.PREFIX, fold(parts[0]), cased, longest_literal=longest)
    if len(parts) == 2 and parts[0] == multi and isinstance(parts[1], str):
        return StringPattern(Shape.SUFFIX, fold(parts[1]), cased, longest_literal=longest)
    if len(parts) == 3 and parts[0] == multi and parts[2] == multi and isinstance(parts[1], str):
        return StringPattern(Shape.CONTAINS, fold(parts[1]), cased, longest_literal=longest)
    if SpecialChars.WILDCARD_SINGLE not in parts:
        segments = [""]  # the texts between `*`s ("" before a leading one, after a trailing one)
        for part in parts:
            if part == multi:
                segments.append("")
            else:
                segments[-1] += fold(str(part))
        pieces = tuple(segment for segment in segments if segment)
        glob = Glob(pieces, bool(segments[0]), bool(segments[-1]))
        return StringPattern(Shape.WILDCARD, "", cased, longest_literal=longest, glob=glob)
    regex_pieces = []
    for part in parts:
        if part == multi:
            regex_pieces.append(".*")
        elif part == SpecialChars.WILDCARD_SINGLE:
            regex_pieces.append(".")
        else:
            regex_pieces.append(escape(fold(str(part))))
    regex = compile_re2("(?s)" + "".join(regex_pieces))
    return StringPattern(Shape.WILDCARD, "", cased, regex=regex, longest_literal=longest)


class StringSet:
    """Any-of a list of string patterns of the same case sensitivity, grouped by shape. Rules test it in
    their generated code (:mod:`collector.detection.rule_code`); :meth:`matches_any` is the plain
    reference that code must agree with."""

    __slots__ = ("any_text", "contains", "exact", "globs", "prefixes", "regexes", "suffixes")

    def __init__(self, patterns: Iterable[StringPattern]) -> None:
        by_shape: dict[Shape, list[StringPattern]] = {shape: [] for shape in Shape}
        for pattern in patterns:
            by_shape[pattern.shape].append(pattern)
        self.any_text = bool(by_shape[Shape.ANY])
        self.exact = frozenset(p.literal for p in by_shape[Shape.EXACT])
        self.prefixes = tuple(p.literal for p in by_shape[Shape.PREFIX])
        self.suffixes = tuple(p.literal for p in by_shape[Shape.SUFFIX])
        self.contains = tuple(p.literal for p in by_shape[Shape.CONTAINS])
        self.globs = tuple(p.glob for p in by_shape[Shape.WILDCARD] if p.glob is not None)
        self.regexes = tuple(p.regex for p in by_shape[Shape.WILDCARD] if p.regex is not None)

    def matches_any(self, texts: Sequence[str]) -> bool:
        for text in texts:
            if self.any_text or text in self.exact:
                return True
            if self.prefixes and text.startswith(self.prefixes):
                return True
            if self.suffixes and text.endswith(self.suffixes):
                return True
            for needle in self.contains:
                if needle in text:
                    return True
            for glob in self.globs:
                if glob_matches(text, glob):
                    return True
            for regex in self.regexes:
                if regex.fullmatch(text):
                    return True
        return False


def as_keyword(value: SigmaString) -> SigmaString:
    """A keyword (value without a field) matches anywhere in the searched text, as in full-text backends."""
    wrapped = value
    if not wrapped.startswith(SpecialChars.WILDCARD_MULTI):
        wrapped = SpecialChars.WILDCARD_MULTI + wrapped
    if not wrapped.endswith(SpecialChars.WILDCARD_MULTI):
        wrapped = wrapped + SpecialChars.WILDCARD_MULTI
    if isinstance(value, SigmaCasedString):
        return SigmaCasedString.from_sigma_string(wrapped)
    return wrapped
