"""The incident document as stored in ``<prefix>incidents`` and returned by the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from collector.incidents.lifecycle import Status


class Named(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    name: str | None = None


class SystemRef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    security_level: int | None = None


class Grouping(BaseModel):
    """Why these alerts are one incident: the shared key, the window they fell in, in words."""

    key: dict[str, str]
    key_text: str
    reason: str
    window_start: datetime
    window_end: datetime
    window_s: int


class Comment(BaseModel):
    id: str
    author: str
    at: datetime
    text: str


class HistoryEntry(BaseModel):
    """One change: who, when, what changed from what to what, and why."""

    at: datetime
    actor: str
    action: str
    from_value: str | None = None
    to_value: str | None = None
    reason: str | None = None


class Incident(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    title: str
    status: Status = Status.NEW
    priority: str
    priority_rank: int
    priority_reason: str
    level: str
    severity: int
    organization: Named
    host: Named
    rule: Named
    system: SystemRef = Field(default_factory=SystemRef)
    grouping: Grouping
    alert_ids: list[str] = Field(default_factory=list)
    alert_count: int = 0
    first_alert_at: datetime
    last_alert_at: datetime
    created: datetime
    updated: datetime
    acknowledged_at: datetime | None = None
    investigating_at: datetime | None = None
    resolved_at: datetime | None = None
    time_to_acknowledge_s: float | None = None
    time_to_resolve_s: float | None = None
    assignee: str | None = None
    reopen_count: int = 0
    comments: list[Comment] = Field(default_factory=list)
    history: list[HistoryEntry] = Field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
