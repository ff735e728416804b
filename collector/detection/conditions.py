"""pySigma's parsed condition tree compiled into one matcher per rule.

Input is ``rule.detection.parsed_condition[i].parsed``: ConditionAND / ConditionOR / ConditionNOT over
ConditionFieldEqualsValueExpression (field = value) and ConditionValueExpression (keyword) leaves, with
``1 of`` / ``all of`` / ``them`` already resolved by pySigma. Sibling leaves of an OR that test the same
field are merged into one string-set test, which is what makes long value lists cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import SigmaNumber, SigmaRegularExpression, SigmaString, SigmaType

from collector.detection.compiled import Compiled, all_of, any_of, negate
from collector.detection.errors import RuleCompileError
from collector.detection.event_view import FieldRef
from collector.detection.string_patterns import as_keyword
from collector.detection.values import Placeholders, compile_any_of

MAX_CONDITION_DEPTH = 64
"""Matchers nest as deep as the condition tree and call each other recursively at match time; a bound
keeps a hostile rule from turning every match into a RecursionError."""


@dataclass(frozen=True, slots=True)
class CompileOptions:
    """``keyword_fields``: where values without a field are searched (the raw log line lives in
    ``message``). ``placeholders``: values for ``|expand`` placeholders such as ``%admins%``."""

    keyword_fields: tuple[str, ...] = ("message",)
    placeholders: Placeholders | None = None


class ConditionCompiler:
    def __init__(self, options: CompileOptions) -> None:
        self._keyword_refs = tuple(FieldRef(name) for name in options.keyword_fields)
        self._placeholders: Placeholders = options.placeholders or {}
        self._refs: dict[str, FieldRef] = {}

    def compile_conditions(self, trees: Sequence[Any]) -> Compiled:
        """A rule's list of conditions means any of them."""
        return any_of([self.compile(tree) for tree in trees])

    def compile(self, node: Any, depth: int = 0) -> Compiled:
        if depth > MAX_CONDITION_DEPTH:
            raise RuleCompileError(f"condition nested deeper than {MAX_CONDITION_DEPTH} levels")
        if isinstance(node, ConditionAND):
            return all_of([self.compile(arg, depth + 1) for arg in node.args])
        if isinstance(node, ConditionOR):
            return self._compile_or(node.args, depth + 1)
        if isinstance(node, ConditionNOT):
            return negate(self.compile(node.args[0], depth + 1))
        if isinstance(node, ConditionFieldEqualsValueExpression):
            return compile_any_of(self._ref(node.field), [node.value], self._placeholders)
        if isinstance(node, ConditionValueExpression):
            return self._keywords([node.value])
        raise RuleCompileError(f"condition element {type(node).__name__} is not supported")

    def _compile_or(self, args: Sequence[Any], depth: int) -> Compiled:
        by_field: dict[str, list[SigmaType]] = {}
        keywords: list[SigmaType] = []
        parts: list[Compiled] = []
        for arg in args:
            if isinstance(arg, ConditionFieldEqualsValueExpression):
                by_field.setdefault(arg.field, []).append(arg.value)
            elif isinstance(arg, ConditionValueExpression):
                keywords.append(arg.value)
            else:
                parts.append(self.compile(arg, depth))
        for field_name, values in by_field.items():
            parts.append(compile_any_of(self._ref(field_name), values, self._placeholders))
        if keywords:
            parts.append(self._keywords(keywords))
        return any_of(parts)

    def _keywords(self, values: Sequence[SigmaType]) -> Compiled:
        # A number among keywords (e.g. a runlevel "6") is searched for as text, as full-text backends do.
        texts = [SigmaString(str(v.number)) if isinstance(v, SigmaNumber) else v for v in values]
        searched = [as_keyword(v) if isinstance(v, SigmaString) else v for v in texts]
        if any(not isinstance(v, SigmaString | SigmaRegularExpression) for v in searched):
            raise RuleCompileError("keyword searches support strings and regular expressions only")
        return any_of([compile_any_of(ref, searched, self._placeholders) for ref in self._keyword_refs])

    def _ref(self, field_name: str) -> FieldRef:
        ref = self._refs.get(field_name)
        if ref is None:
            ref = self._refs[field_name] = FieldRef(field_name)
        return ref
