"""What the engine reports about a rule it could not load."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class RuleLoadError:
    """One rule file, or one rule inside a file, that was left out; every other rule still loads.

    ``line`` is 1-based and known for YAML syntax errors; ``None`` when pySigma or the compiler gives no
    position. ``rule_id`` names the rule when the file parsed far enough to know it.
    """

    path: Path
    line: int | None
    reason: str
    rule_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else str(self.path)
        return f"{where}: {self.reason}"


class RuleCompileError(ValueError):
    """A parsed rule uses something the matcher cannot evaluate (e.g. a regex RE2 rejects)."""
