"""``/incidents``: list and filter, read one with its alerts and history, change status, assign, comment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from collector.api.context import Context, Reader, Responder
from collector.api.routes.params import FreeText, Limit, ObjectId, Offset, Since, Term, Until, time_range
from collector.api.schemas import (
    AUTH,
    CONFLICT,
    NOT_FOUND,
    AlertView,
    AssignRequest,
    CommentRequest,
    IncidentDetail,
    IncidentPage,
    StatusChangeRequest,
)
from collector.incidents.lifecycle import Status
from collector.incidents.model import Incident
from collector.store import AlertFilter, IncidentFilter

router = APIRouter(prefix="/incidents", tags=["incidents"], responses=AUTH)
ALERTS_SHOWN = 200


@router.get("", response_model=IncidentPage)
async def list_incidents(
    ctx: Context,
    actor: Reader,
    status: Annotated[list[Status] | None, Query(description="any of these statuses")] = None,
    priority: Annotated[str | None, Query(pattern="^P[1-4]$")] = None,
    agency: Term = None,
    host: Term = None,
    rule: Term = None,
    assignee: Term = None,
    since: Since = None,
    until: Until = None,
    text: FreeText = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> IncidentPage:
    start, end = time_range(since, until)
    where = IncidentFilter(
        agencies=actor.agencies,
        agency=agency,
        host=host,
        rule=rule,
        statuses=frozenset(status or ()),
        priority=priority,
        assignee=assignee,
        since=start,
        until=end,
        text=text,
    )
    page = await ctx.store.search_incidents(where, limit, offset)
    items = [Incident.model_validate(item.source) for item in page.items]
    return IncidentPage(total=page.total, limit=limit, offset=offset, items=items)


@router.get("/{incident_id}", response_model=IncidentDetail, responses=NOT_FOUND)
async def get_incident(incident_id: ObjectId, ctx: Context, actor: Reader) -> IncidentDetail:
    incident = await ctx.incidents.get(incident_id, actor)
    shown = incident.alert_ids[:ALERTS_SHOWN]
    where = AlertFilter(agencies=actor.agencies, ids=frozenset(shown))
    page = await ctx.store.search_alerts(where, limit=ALERTS_SHOWN)
    alerts = [AlertView.of(item.source) for item in page.items]
    return IncidentDetail(incident=incident, alerts=alerts, alerts_shown=len(alerts))


@router.post("/{incident_id}/status", response_model=Incident, responses={**NOT_FOUND, **CONFLICT})
async def change_status(
    incident_id: ObjectId, body: StatusChangeRequest, ctx: Context, actor: Responder
) -> Incident:
    """Allowed: new → acknowledged | false_positive; acknowledged → investigating | false_positive;
    investigating → resolved | false_positive; resolved or false_positive → investigating (reopen).
    Anything else answers 409 with the allowed next statuses and the current incident, as does an
    ``expected_status`` that is no longer the incident's status."""
    incident = await ctx.incidents.change_status(
        incident_id, body.status, actor, body.reason, expected=body.expected_status
    )
    ctx.metrics.actions.labels(f"incident.{body.status}", "done").inc()
    return incident


@router.post("/{incident_id}/assign", response_model=Incident, responses={**NOT_FOUND, **CONFLICT})
async def assign(incident_id: ObjectId, body: AssignRequest, ctx: Context, actor: Responder) -> Incident:
    """``assignee: null`` unassigns."""
    incident = await ctx.incidents.assign(incident_id, body.assignee, actor, body.reason)
    ctx.metrics.actions.labels("incident.assign", "done").inc()
    return incident


@router.post("/{incident_id}/comments", response_model=Incident, responses=NOT_FOUND)
async def comment(incident_id: ObjectId, body: CommentRequest, ctx: Context, actor: Responder) -> Incident:
    incident = await ctx.incidents.comment(incident_id, body.text, actor)
    ctx.metrics.actions.labels("incident.comment", "done").inc()
    return incident
