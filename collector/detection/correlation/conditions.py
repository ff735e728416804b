"""The test a correlation window's aggregate must pass: a threshold, or a boolean expression over which
base rules matched (Sigma's extended condition for temporal correlations)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection
from dataclasses import dataclass

from sigma.correlations import (
    CorrelationConditionAND,
    CorrelationConditionItem,
    CorrelationConditionNOT,
    CorrelationConditionOR,
    SigmaCorrelationCondition,
    SigmaRuleReference,
)

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "eq": operator.eq,
    "neq": operator.ne,
}


@dataclass(frozen=True, slots=True)
class Threshold:
    """``aggregate <op> limit``, e.g. ``gte 5``."""

    op: str
    limit: float

    @classmethod
    def from_sigma(cls, condition: SigmaCorrelationCondition) -> Threshold:
        return cls(condition.op.name.lower(), float(condition.count))

    def holds(self, aggregate: float) -> bool:
        return _OPERATORS[self.op](aggregate, self.limit)

    @property
    def monotone(self) -> bool:
        """True when a growing count can only make it true once and keep it true (gt, gte)."""
        return self.op in ("gt", "gte")

    def __str__(self) -> str:
        return f"{self.op} {self.limit:g}"


@dataclass(frozen=True, slots=True)
class RuleExpression:
    """An extended temporal condition such as ``login and not logout``, over base-rule references."""

    text: str
    tree: CorrelationConditionItem | SigmaRuleReference

    def holds(self, present: Collection[str]) -> bool:
        """``present``: the references (as written in the rule) of base rules seen in the window."""
        return _evaluate(self.tree, present)

    def references(self) -> list[str]:
        found: list[str] = []
        _collect(self.tree, found)
        return list(dict.fromkeys(found))

    def __str__(self) -> str:
        return self.text


def _evaluate(node: CorrelationConditionItem | SigmaRuleReference, present: Collection[str]) -> bool:
    if isinstance(node, SigmaRuleReference):
        return node.reference in present
    if isinstance(node, CorrelationConditionAND):
        return all(_evaluate(arg, present) for arg in node.args)
    if isinstance(node, CorrelationConditionOR):
        return any(_evaluate(arg, present) for arg in node.args)
    if isinstance(node, CorrelationConditionNOT):
        return not _evaluate(node.args[0], present)
    raise TypeError(f"unknown correlation condition node {type(node).__name__}")


def _collect(node: CorrelationConditionItem | SigmaRuleReference, out: list[str]) -> None:
    if isinstance(node, SigmaRuleReference):
        out.append(node.reference)
    else:
        for arg in node.args:
            _collect(arg, out)
