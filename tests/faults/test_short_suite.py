"""The short fault suite: a few thousand events from three real agents through two real collectors while
every fault happens once (collector and agent ``kill -9``, Kafka and Elasticsearch outages, hostile
messages and rule files). Fails if anything is lost, duplicated or crashed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.scenario import FaultPlan, ServiceControl, every_fault_once, run_faults

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]


async def test_every_fault_once_loses_and_duplicates_nothing(stack: ServiceControl, tmp_path: Path) -> None:
    verdict = await run_faults(stack, tmp_path, FaultPlan(oversized=False), every_fault_once)

    assert verdict.ok, verdict.summary()
    assert verdict.events_sent > 1000, "the run carried real load"
    assert verdict.alerts_expected > 50
    assert verdict.dead_letters_expected >= 14
    assert verdict.offset_checks >= 2
