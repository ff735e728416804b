"""A message above the contract's 1 MB limit, on a topic that accepts it, must be dead-lettered with its
reason like any other malformed message (truncated, with its size and digest), and the collector must go
on: re-publishing it whole used to exceed the producer's limit and stop every collector that met it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.faults.scenario import FaultPlan, FaultRun, ServiceControl, run_faults

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def send_hostile_only(run: FaultRun) -> None:
    await asyncio.sleep(8)  # the agent and both collectors are up and consuming
    await run.send_hostile()


async def test_oversized_message_is_dead_lettered_and_nothing_else_suffers(
    stack: ServiceControl, tmp_path: Path
) -> None:
    plan = FaultPlan(agents=1, agent_rate=20, oversized=True)
    verdict = await run_faults(stack, tmp_path, plan, send_hostile_only, settle_timeout_s=60)

    assert verdict.ok, verdict.summary()
    assert verdict.dead_letters_found == verdict.dead_letters_expected == 8
