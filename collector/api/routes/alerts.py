"""``/alerts``: list and filter, read one, acknowledge one or many."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query

from collector.api.context import Context, Reader, Responder
from collector.api.routes.params import FreeText, Limit, ObjectId, Offset, Since, Term, Until, time_range
from collector.api.schemas import (
    AUTH,
    CONFLICT,
    NOT_FOUND,
    AcknowledgeOutcome,
    AcknowledgeRequest,
    AlertPage,
    AlertView,
    BulkAcknowledgeRequest,
    BulkAcknowledgeResponse,
)
from collector.incidents.errors import StateConflict, UnknownObject
from collector.store import AlertFilter

router = APIRouter(prefix="/alerts", tags=["alerts"], responses=AUTH)
BULK_CONCURRENCY = 16
"""Acknowledgements of one bulk request in flight at once: their refresh waits overlap."""


@router.get("", response_model=AlertPage)
async def list_alerts(
    ctx: Context,
    actor: Reader,
    since: Since = None,
    until: Until = None,
    min_severity: Annotated[int | None, Query(ge=0, le=100)] = None,
    agency: Term = None,
    host: Term = None,
    rule: Term = None,
    status: Annotated[str | None, Query(pattern="^(open|acknowledged)$")] = None,
    incident: Term = None,
    text: FreeText = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AlertPage:
    start, end = time_range(since, until)
    where = AlertFilter(
        agencies=actor.agencies,
        agency=agency,
        host=host,
        rule=rule,
        status=status,
        min_severity=min_severity,
        since=start,
        until=end,
        text=text,
        incident_id=incident,
    )
    page = await ctx.store.search_alerts(where, limit, offset)
    items = [AlertView.of(item.source) for item in page.items]
    return AlertPage(total=page.total, limit=limit, offset=offset, items=items)


@router.get("/{alert_id}", response_model=AlertView, responses=NOT_FOUND)
async def get_alert(alert_id: ObjectId, ctx: Context, actor: Reader) -> AlertView:
    return AlertView.of((await ctx.acknowledger.visible(alert_id, actor)).source)


@router.post("/{alert_id}/acknowledge", response_model=AlertView, responses={**NOT_FOUND, **CONFLICT})
async def acknowledge_alert(
    alert_id: ObjectId, body: AcknowledgeRequest, ctx: Context, actor: Responder
) -> AlertView:
    try:
        updated = await ctx.acknowledger.acknowledge(alert_id, actor, body.reason)
    except StateConflict:
        ctx.metrics.actions.labels("alert.acknowledge", "conflict").inc()
        raise
    ctx.metrics.actions.labels("alert.acknowledge", "done").inc()
    return AlertView.of(updated)


@router.post("/acknowledge", response_model=BulkAcknowledgeResponse)
async def acknowledge_alerts(
    body: BulkAcknowledgeRequest, ctx: Context, actor: Responder
) -> BulkAcknowledgeResponse:
    """Each alert is acknowledged on its own: one that is already acknowledged or unknown does not stop
    the others; the response says what happened to each."""
    gate = asyncio.Semaphore(BULK_CONCURRENCY)

    async def one(alert_id: str) -> AcknowledgeOutcome:
        async with gate:
            try:
                updated = await ctx.acknowledger.acknowledge(alert_id, actor, body.reason)
            except UnknownObject as missing:
                return AcknowledgeOutcome(alert_id=alert_id, outcome="not_found", detail=str(missing))
            except StateConflict as conflict:
                current = AlertView.of(conflict.current)
                return AcknowledgeOutcome(
                    alert_id=alert_id, outcome="conflict", detail=conflict.message, alert=current
                )
            return AcknowledgeOutcome(alert_id=alert_id, outcome="acknowledged", alert=AlertView.of(updated))

    results = list(await asyncio.gather(*(one(alert_id) for alert_id in dict.fromkeys(body.alert_ids))))
    done = sum(result.outcome == "acknowledged" for result in results)
    ctx.metrics.actions.labels("alert.acknowledge", "done").inc(done)
    return BulkAcknowledgeResponse(acknowledged=done, results=results)
