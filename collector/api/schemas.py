"""Request and response bodies. Requests refuse unknown fields, so a typo is an error, not a no-op."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from collector.api.roles import Role
from collector.incidents.lifecycle import Status
from collector.incidents.model import Incident
from collector.store.matching import field

Reason = Annotated[str, Field(min_length=1, max_length=2000)]
Identifier = Annotated[str, Field(min_length=1, max_length=256)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AcknowledgeRequest(Request):
    reason: Reason


class BulkAcknowledgeRequest(Request):
    alert_ids: Annotated[list[Identifier], Field(min_length=1, max_length=500)]
    reason: Reason


class StatusChangeRequest(Request):
    status: Status
    reason: Reason | None = None
    expected_status: Status | None = None
    """The status the caller last saw; when given and no longer current, the answer is 409."""


class AssignRequest(Request):
    assignee: Annotated[str, Field(min_length=1, max_length=200)] | None
    reason: Reason | None = None


class CommentRequest(Request):
    text: Annotated[str, Field(min_length=1, max_length=10_000)]


class TokenCreateRequest(Request):
    role: Role
    name: Annotated[str, Field(min_length=1, max_length=200)]
    agency: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class AlertView(BaseModel):
    """The fields responders filter and sort by, plus the whole ECS alert document."""

    id: str
    timestamp: str | None
    message: str | None
    severity: int | None
    level: str | None
    status: str
    agency: str | None
    host_id: str | None
    host_name: str | None
    rule_id: str | None
    rule_name: str | None
    incident_id: str | None
    acknowledged: dict[str, Any] | None
    document: dict[str, Any]

    @classmethod
    def of(cls, alert: Mapping[str, Any]) -> AlertView:
        acknowledged = field(alert, "canhgac.alert.acknowledged")
        return cls(
            id=str(field(alert, "event.id")),
            timestamp=field(alert, "@timestamp"),
            message=field(alert, "message"),
            severity=field(alert, "event.severity"),
            level=field(alert, "canhgac.alert.level"),
            status=field(alert, "canhgac.alert.status") or "open",
            agency=field(alert, "organization.id"),
            host_id=field(alert, "host.id"),
            host_name=field(alert, "host.name"),
            rule_id=field(alert, "rule.id"),
            rule_name=field(alert, "rule.name"),
            incident_id=field(alert, "canhgac.alert.incident_id"),
            acknowledged=acknowledged if isinstance(acknowledged, dict) else None,
            document=dict(alert),
        )


class AlertPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[AlertView]


class AcknowledgeOutcome(BaseModel):
    alert_id: str
    outcome: Literal["acknowledged", "conflict", "not_found"]
    detail: str | None = None
    alert: AlertView | None = None


class BulkAcknowledgeResponse(BaseModel):
    acknowledged: int
    results: list[AcknowledgeOutcome]


class IncidentPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[Incident]


class IncidentDetail(BaseModel):
    incident: Incident
    alerts: list[AlertView]
    alerts_shown: int
    """The first alerts (by time) when the incident holds more than a page."""


class AgentView(BaseModel):
    model_config = ConfigDict(extra="allow")

    agent: dict[str, Any]
    host: dict[str, Any]
    organization: dict[str, Any]
    last_seen: str
    status: str


class AgentList(BaseModel):
    items: list[AgentView]


class TokenView(BaseModel):
    id: str
    name: str
    role: str
    agency: str | None
    created: str
    created_by: str
    revoked_at: str | None
    revoked_by: str | None


class TokenCreated(TokenView):
    token: str
    """The secret: shown once, never stored."""


class Problem(BaseModel):
    detail: str


class ConflictProblem(BaseModel):
    detail: str
    current: dict[str, Any]


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, bool]


class Liveness(BaseModel):
    status: Literal["ok"]


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem}}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": ConflictProblem}}
AUTH: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem},
    403: {"model": Problem},
    429: {"model": Problem},
}
