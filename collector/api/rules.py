"""The rules the API reports: loaded ones and failed ones with the reason.

``create_app`` takes a :data:`RulesProvider`; the collector passes its engine's rules, and
:func:`sigma_directory_provider` reads rule directories with pySigma for a standalone API process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

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


def sigma_directory_provider(directories: Sequence[Path]) -> RulesProvider:
    """Load every ``*.yml`` under ``directories`` once with pySigma, collecting errors instead of raising."""
    from sigma.collection import SigmaCollection

    loaded: list[LoadedRule] = []
    failed: list[FailedRule] = []
    for directory in directories:
        for path in sorted(Path(directory).rglob("*.yml")):
            try:
                collection = SigmaCollection.from_yaml(path.read_text(encoding="utf-8"), collect_errors=True)
            except Exception as error:  # any parse failure is reported, not fatal
                failed.append(FailedRule(source=str(path), reason=str(error)))
                continue
            for rule in collection.rules:
                errors = getattr(rule, "errors", [])
                if errors:
                    failed.append(FailedRule(source=str(path), reason="; ".join(map(str, errors))))
                    continue
                level = getattr(rule, "level", None)
                status = getattr(rule, "status", None)
                loaded.append(
                    LoadedRule(
                        id=str(getattr(rule, "id", None) or getattr(rule, "name", None) or path.stem),
                        title=str(rule.title),
                        level=str(level.name).lower() if level is not None else None,
                        status=str(status.name).lower() if status is not None else None,
                        source=str(path),
                    )
                )
    snapshot = RulesSnapshot(loaded=loaded, failed=failed)
    return lambda: snapshot
