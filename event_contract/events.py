"""The event types an agent sends. Each is one ECS document; ``event.dataset`` names the type."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, model_validator

from event_contract.datasets import Dataset as Dataset  # re-exported: defined without pydantic
from event_contract.ecs import (
    AgentInfo,
    EcsModel,
    EcsVersion,
    EventMeta,
    GroupRef,
    Hash,
    HostInfo,
    InformationSystem,
    Organization,
    Source,
    Timestamped,
    UserRef,
)
from event_contract.version import CONTRACT_VERSION

# --- canhgac.* : what ECS has no field for -------------------------------------------------------------


class FilePrevious(EcsModel):
    """A file's values before the change, for the fields that changed (and the old path of a rename)."""

    path: str | None = None
    hash: Hash | None = None
    size: int | None = None
    mode: str | None = None
    uid: str | None = None
    gid: str | None = None
    owner: str | None = None
    group: str | None = None
    inode: str | None = None
    mtime: datetime | None = None


class FileExtra(EcsModel):
    previous: FilePrevious | None = None
    changed_fields: list[str] | None = None
    hash_skipped_reason: str | None = None
    classification_marking: str | None = None


class AuthExtra(EcsModel):
    method: str | None = None
    service: str | None = None


class SensorHealth(EcsModel):
    status: Literal["ok", "degraded", "failed", "disabled"]
    detail: str | None = None


class SpoolHealth(EcsModel):
    depth: int = 0
    bytes: int = 0
    dropped: int = 0
    policy: str | None = None


class AgentHealth(EcsModel):
    interval_s: float
    sensors: dict[str, SensorHealth] = Field(default_factory=dict)
    spool: SpoolHealth = Field(default_factory=SpoolHealth)
    counters: dict[str, int] = Field(default_factory=dict)


OriginStatus = Literal["verified", "unsigned", "unknown_key", "bad_signature", "identity_mismatch"]


class MessageOrigin(EcsModel):
    """Set by the collector, never by an agent (the collector overwrites it): whether the message was
    signed by the key enrolled for the agent and host it claims (see ``event_contract.signing``)."""

    status: OriginStatus
    key_id: str | None = None
    reason: str | None = None


class Canhgac(EcsModel):
    """Fields of this product, namespaced so they never collide with a future ECS field."""

    contract_version: int = CONTRACT_VERSION
    system: InformationSystem
    file: FileExtra | None = None
    auth: AuthExtra | None = None
    health: AgentHealth | None = None
    origin: MessageOrigin | None = None


# --- ECS groups specific to one event type --------------------------------------------------------------


class FileInfo(EcsModel):
    path: str
    name: str | None = None
    directory: str | None = None
    extension: str | None = None
    type: Literal["file", "dir", "symlink", "other"] | None = None
    size: int | None = None
    mode: Annotated[str, Field(pattern=r"^0[0-7]{3,5}$")] | None = None
    uid: str | None = None
    gid: str | None = None
    owner: str | None = None
    group: str | None = None
    inode: str | None = None
    mtime: datetime | None = None
    target_path: str | None = None
    hash: Hash | None = None


class ParentProcess(EcsModel):
    pid: int | None = None
    entity_id: str | None = None
    executable: str | None = None
    name: str | None = None
    command_line: str | None = None
    args: list[str] | None = None


class ProcessInfo(EcsModel):
    pid: int
    entity_id: str | None = None
    executable: str | None = None
    name: str | None = None
    command_line: str | None = None
    args: list[str] | None = None
    args_count: int | None = None
    working_directory: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    exit_code: int | None = None
    user: UserRef | None = None
    group: GroupRef | None = None
    parent: ParentProcess | None = None
    hash: Hash | None = None


# --- the event types -----------------------------------------------------------------------------------


class BaseEvent(Timestamped):
    """What every event carries: time, identity, the sending agent and host, the owning agency."""

    event: EventMeta
    host: HostInfo
    agent: AgentInfo
    organization: Organization
    canhgac: Canhgac
    ecs: EcsVersion = Field(default_factory=EcsVersion)
    message: str | None = None
    tags: list[str] | None = None

    DATASET: ClassVar[Dataset]

    @model_validator(mode="after")
    def _dataset_matches_type(self) -> Self:
        if self.event.dataset != self.DATASET:
            raise ValueError(f"event.dataset is {self.event.dataset!r}, expected {self.DATASET.value!r}")
        return self


class FileEvent(BaseEvent):
    """``event.category: [file]``; action creation / modification / attributes_modification / deletion /
    rename; ``event.type`` creation / change / deletion."""

    DATASET: ClassVar[Dataset] = Dataset.FILE
    file: FileInfo


class ProcessEvent(BaseEvent):
    """``event.category: [process]``; action ``exec`` (type start) or ``end`` (type end)."""

    DATASET: ClassVar[Dataset] = Dataset.PROCESS
    process: ProcessInfo
    user: UserRef | None = None


class AuthenticationEvent(BaseEvent):
    """Logins, sessions, sudo/su and account changes: ``event.category`` authentication, session or iam.
    The raw log line is in ``message`` so Sigma keyword rules work on it."""

    DATASET: ClassVar[Dataset] = Dataset.AUTHENTICATION
    user: UserRef | None = None
    group: GroupRef | None = None
    source: Source | None = None
    process: ProcessInfo | None = None
    related: dict[str, list[str]] | None = None


class HeartbeatEvent(BaseEvent):
    """``event.kind: state``: the agent is alive; version, sensor health, spool depth and counters are in
    ``canhgac.health``."""

    DATASET: ClassVar[Dataset] = Dataset.HEARTBEAT


Event = FileEvent | ProcessEvent | AuthenticationEvent | HeartbeatEvent
"""Any event on the wire; the type is chosen by ``event.dataset``."""

MODEL_BY_DATASET: dict[str, type[FileEvent | ProcessEvent | AuthenticationEvent | HeartbeatEvent]] = {
    model.DATASET.value: model for model in (FileEvent, ProcessEvent, AuthenticationEvent, HeartbeatEvent)
}
