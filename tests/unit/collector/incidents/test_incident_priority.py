from __future__ import annotations

import pytest

from collector.incidents.priority import (
    LEVELS,
    PRIORITY_RANK,
    PRIORITY_TABLE,
    SEVERITY_BY_LEVEL,
    assess,
    level_of_severity,
)


def test_severity_follows_elastic_external_alerts_buckets() -> None:
    assert [SEVERITY_BY_LEVEL[level] for level in ("low", "medium", "high", "critical")] == [21, 47, 73, 99]
    assert all(level_of_severity(SEVERITY_BY_LEVEL[level]) == level for level in LEVELS)
    assert level_of_severity(60) == "medium"


@pytest.mark.parametrize("level", LEVELS)
def test_priority_never_drops_as_the_security_level_rises(level: str) -> None:
    ranks = [assess(level, security_level).rank for security_level in range(1, 6)]
    assert ranks == sorted(ranks, reverse=True)


@pytest.mark.parametrize("security_level", range(1, 6))
def test_priority_never_drops_as_the_rule_level_rises(security_level: int) -> None:
    ranks = [assess(level, security_level).rank for level in LEVELS]
    assert ranks == sorted(ranks, reverse=True)


def test_table_is_complete_and_uses_known_priorities() -> None:
    assert set(PRIORITY_TABLE) == set(LEVELS)
    assert all(label in PRIORITY_RANK for row in PRIORITY_TABLE.values() for label in row)


def test_reason_names_the_inputs_and_the_outcome() -> None:
    priority = assess("high", 4)
    assert priority.label == "P1"
    assert "high" in priority.reason
    assert "security-level-4" in priority.reason
    assert "P1" in priority.reason


def test_unknown_security_level_is_assumed_and_said() -> None:
    priority = assess("critical", None)
    assert priority.label == "P1"
    assert "assumed" in priority.reason


@pytest.mark.parametrize(("level", "security_level"), [("severe", 3), ("high", 0), ("high", 6)])
def test_bad_inputs_are_refused(level: str, security_level: int) -> None:
    with pytest.raises(ValueError, match="level"):
        assess(level, security_level)
