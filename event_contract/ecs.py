"""ECS field groups used by more than one event type.

Models ignore fields they do not know (``extra="ignore"``), so an older collector reads a newer agent's
events. Field names are ECS names; Python-reserved or ``@``-prefixed names use aliases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from event_contract.version import ECS_VERSION


class EcsModel(BaseModel):
    """Base of every contract model: unknown fields ignored, aliases accepted by name too."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


Outcome = Literal["success", "failure", "unknown"]
EventKind = Literal["event", "state", "metric"]
SecurityLevel = Annotated[int, Field(ge=1, le=5)]
NonEmpty = Annotated[str, Field(min_length=1)]


class Hash(EcsModel):
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None


class EventMeta(EcsModel):
    """``event.*``. ``sequence`` is the agent's own counter: +1 per event, never reused, so gaps show loss."""

    id: NonEmpty
    kind: EventKind = "event"
    category: list[str]
    type: list[str]
    action: str | None = None
    outcome: Outcome | None = None
    dataset: NonEmpty
    module: str = "canhgac"
    sequence: Annotated[int, Field(ge=0)]
    created: datetime | None = None
    reason: str | None = None


class OsInfo(EcsModel):
    type: str | None = None
    family: str | None = None
    name: str | None = None
    version: str | None = None
    kernel: str | None = None


class HostInfo(EcsModel):
    id: NonEmpty
    name: NonEmpty
    hostname: str | None = None
    ip: list[str] = Field(default_factory=list)
    architecture: str | None = None
    os: OsInfo | None = None


class AgentInfo(EcsModel):
    id: NonEmpty
    type: str = "canhgac"
    version: NonEmpty
    name: str | None = None


class Organization(EcsModel):
    """The agency that owns the host and whose security focal point acts on its incidents."""

    id: NonEmpty
    name: NonEmpty


class InformationSystem(EcsModel):
    """The information system the host belongs to, with its security level (1-5) under national rules."""

    id: str | None = None
    name: str | None = None
    security_level: SecurityLevel


class EcsVersion(EcsModel):
    version: str = ECS_VERSION


class UserTarget(EcsModel):
    name: str | None = None
    id: str | None = None


class UserRef(EcsModel):
    """``user.*`` (and ``process.user.*``). ECS keeps ids as strings."""

    name: str | None = None
    id: str | None = None
    target: UserTarget | None = None


class GroupRef(EcsModel):
    name: str | None = None
    id: str | None = None


class Source(EcsModel):
    ip: str | None = None
    port: Annotated[int, Field(ge=0, le=65535)] | None = None
    address: str | None = None


class Timestamped(EcsModel):
    timestamp: datetime = Field(alias="@timestamp")
