"""``/agents`` (the inventory from heartbeats) and ``/rules`` (loaded and failed rules)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from collector.api.context import Context, Reader
from collector.api.routes.params import Term
from collector.api.rules import RulesSnapshot
from collector.api.schemas import AUTH, AgentList, AgentView

router = APIRouter(tags=["inventory"], responses=AUTH)


@router.get("/agents", response_model=AgentList)
async def list_agents(
    ctx: Context,
    actor: Reader,
    agency: Term = None,
    status: Annotated[str | None, Query(pattern="^(online|silent)$")] = None,
) -> AgentList:
    agencies = actor.agencies
    if agency is not None:
        agencies = frozenset({agency}) if actor.sees(agency) else frozenset()
    agents = await ctx.store.list_agents(agencies, limit=10_000)
    items = [AgentView.model_validate(agent.source) for agent in agents]
    return AgentList(items=[item for item in items if status is None or item.status == status])


@router.get("/rules", response_model=RulesSnapshot)
async def list_rules(ctx: Context, actor: Reader) -> RulesSnapshot:
    return ctx.rules()
