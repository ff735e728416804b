"""Sigma string values (wildcards ``*`` ``?``, ``\\`` escapes, ``|cased``) as fast string tests.

Most Sigma values are one literal with wildcards only at the ends (what ``contains``, ``startswith`` and
``endswith`` produce), so they become ``in`` / ``startswith`` / ``endswith`` on the lower-cased text; a list
of such values for one field becomes a single set lookup plus tuple-argument ``startswith``/``endswith``
calls. Only values with inner wildcards fall back to an RE2 full match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
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
class StringPattern:
    """One Sigma string value. ``literal`` is lower-cased unless ``cased``; ``regex`` only for WILDCARD."""

    shape: Shape
    literal: str
    cased: bool
    regex: Re2 | None = None
    longest_literal: str = ""

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
    pieces = []
    for part in parts:
        if part == multi:
            pieces.append(".*")
        elif part == SpecialChars.WILDCARD_SINGLE:
            pieces.append(".")
        else:
            pieces.append(escape(fold(str(part))))
    regex = compile_re2("(?s)" + "".join(pieces))
    return StringPattern(Shape.WILDCARD, "", cased, regex=regex, longest_literal=longest)


class StringSet:
    """Any-of a list of string patterns of the same case sensitivity, tested against one text at a time."""

    __slots__ = ("any_text", "contains", "exact", "prefixes", "regexes", "suffixes")

    def __init__(self, patterns: Iterable[StringPattern]) -> None:
        by_shape: dict[Shape, list[StringPattern]] = {shape: [] for shape in Shape}
        for pattern in patterns:
            by_shape[pattern.shape].append(pattern)
        self.any_text = bool(by_shape[Shape.ANY])
        self.exact = frozenset(p.literal for p in by_shape[Shape.EXACT])
        self.prefixes = tuple(p.literal for p in by_shape[Shape.PREFIX])
        self.suffixes = tuple(p.literal for p in by_shape[Shape.SUFFIX])
        self.contains = tuple(p.literal for p in by_shape[Shape.CONTAINS])
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
            for regex in self.regexes:
                if regex.fullmatch(text):
                    return True
        return False


TextsTest = Callable[[Sequence[str]], bool]
"""Does any of a field's texts match? (The field's texts, already lower-cased when matching folds case.)"""


def texts_test(strings: StringSet) -> TextsTest:
    """:meth:`StringSet.matches_any`, specialised when the set holds one shape only (most Sigma lists:
    ``|endswith`` image names, exact ``EventID``-like values, ``|contains`` command-line fragments), so the
    hot path skips the empty shape tests and, for exact values, runs the whole test in C."""
    shapes = [
        bool(strings.exact),
        bool(strings.prefixes),
        bool(strings.suffixes),
        bool(strings.contains),
        bool(strings.regexes),
    ]
    if strings.any_text or sum(shapes) != 1:
        return strings.matches_any
    exact, prefixes, suffixes, contains = strings.exact, strings.prefixes, strings.suffixes, strings.contains
    if exact:
        return lambda texts: not exact.isdisjoint(texts)
    # Plain loops: any() over a generator costs a frame per call on this hot path.
    if prefixes:

        def starts(texts: Sequence[str]) -> bool:
            for text in texts:  # noqa: SIM110
                if text.startswith(prefixes):
                    return True
            return False

        return starts
    if suffixes:

        def ends(texts: Sequence[str]) -> bool:
            for text in texts:  # noqa: SIM110
                if text.endswith(suffixes):
                    return True
            return False

        return ends
    if len(contains) == 1:
        needle = contains[0]

        def holds(texts: Sequence[str]) -> bool:
            for text in texts:  # noqa: SIM110
                if needle in text:
                    return True
            return False

        return holds
    return strings.matches_any


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
