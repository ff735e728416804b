"""The rules the API reports: loaded ones and failed ones with the reason.

``create_app`` takes a :data:`RulesProvider`; :func:`engine_provider` adapts the detection engine (its
``rules`` and ``errors``), which ``canhgac-collector api --rules DIR`` loads for itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel


class LoadedRule(BaseModel):
    id: str
    title: str
    level: str | None = None
    status: str | None = None
    source: str | None = None


class FailedRule(BaseModel):
    source: str
    reason: str


class RulesSnapshot(BaseModel):
    loaded: list[LoadedRule]
    failed: list[FailedRule]


RulesProvider = Callable[[], RulesSnapshot]


def no_rules() -> RulesSnapshot:
    return RulesSnapshot(loaded=[], failed=[])


class LoadedRuleView(Protocol):
    """What the API reads of a loaded rule (the detection engine's ``CompiledRule`` has it)."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def level(self) -> str | None: ...
    @property
    def status(self) -> str | None: ...
    @property
    def source_path(self) -> Path: ...


class RuleErrorView(Protocol):
    """What the API reads of a rule that failed (the engine's ``RuleLoadError``)."""

    @property
    def path(self) -> Path: ...
    @property
    def line(self) -> int | None: ...
    @property
    def reason(self) -> str: ...


class EngineView(Protocol):
    @property
    def rules(self) -> Sequence[LoadedRuleView]: ...
    @property
    def errors(self) -> Sequence[RuleErrorView]: ...


def engine_provider(engine: Callable[[], EngineView]) -> RulesProvider:
    """Report the rules of whatever engine ``engine()`` returns now (so a reload shows at once)."""

    def snapshot() -> RulesSnapshot:
        current = engine()
        loaded = [
            LoadedRule(id=r.id, title=r.title, level=r.level, status=r.status, source=str(r.source_path))
            for r in current.rules
        ]
        failed = [
            FailedRule(source=f"{e.path}:{e.line}" if e.line is not None else str(e.path), reason=e.reason)
            for e in current.errors
        ]
        return RulesSnapshot(loaded=loaded, failed=failed)

    return snapshot
