"""Wire types of the event contract: msgspec Structs, one per pydantic model of :mod:`event_contract`.

Written by ``python -m event_contract.wire`` from the models (see :mod:`event_contract.wire`); the unit
test ``tests/unit/event_contract/test_generated.py`` fails when this file differs from what they give.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec


class EventMetaWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: Annotated[str, msgspec.Meta(min_length=1)]
    kind: Literal["event", "state", "metric"] = msgspec.field(default_factory=lambda: "event")
    category: list[str]
    type: list[str]
    action: str | None = None
    outcome: Literal["success", "failure", "unknown"] | None = None
    dataset: Annotated[str, msgspec.Meta(min_length=1)]
    module: str = msgspec.field(default_factory=lambda: "canhgac")
    sequence: Annotated[int, msgspec.Meta(ge=0)]
    created: datetime | None = None
    reason: str | None = None


class OsInfoWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    type: str | None = None
    family: str | None = None
    name: str | None = None
    version: str | None = None
    kernel: str | None = None


class HostInfoWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: Annotated[str, msgspec.Meta(min_length=1)]
    name: Annotated[str, msgspec.Meta(min_length=1)]
    hostname: str | None = None
    ip: list[str] = msgspec.field(default_factory=lambda: [])
    architecture: str | None = None
    os: OsInfoWire | None = None


class AgentInfoWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: Annotated[str, msgspec.Meta(min_length=1)]
    type: str = msgspec.field(default_factory=lambda: "canhgac")
    version: Annotated[str, msgspec.Meta(min_length=1)]
    name: str | None = None


class OrganizationWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: Annotated[str, msgspec.Meta(min_length=1)]
    name: Annotated[str, msgspec.Meta(min_length=1)]


class InformationSystemWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str | None = None
    name: str | None = None
    security_level: Annotated[int, msgspec.Meta(ge=1, le=5)]


class HashWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    sha256: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}\\Z")] | None = None


class FilePreviousWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    path: str | None = None
    hash: HashWire | None = None
    size: int | None = None
    mode: str | None = None
    uid: str | None = None
    gid: str | None = None
    owner: str | None = None
    group: str | None = None
    inode: str | None = None
    mtime: datetime | None = None


class FileExtraWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    previous: FilePreviousWire | None = None
    changed_fields: list[str] | None = None
    hash_skipped_reason: str | None = None
    classification_marking: str | None = None


class AuthExtraWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    method: str | None = None
    service: str | None = None


class SensorHealthWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    status: Literal["ok", "degraded", "failed", "disabled"]
    detail: str | None = None


class SpoolHealthWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    depth: int = msgspec.field(default_factory=lambda: 0)
    bytes: int = msgspec.field(default_factory=lambda: 0)
    dropped: int = msgspec.field(default_factory=lambda: 0)
    policy: str | None = None


class AgentHealthWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    interval_s: float
    sensors: dict[str, SensorHealthWire] = msgspec.field(default_factory=lambda: {})
    spool: SpoolHealthWire = msgspec.field(
        default_factory=lambda: SpoolHealthWire(depth=0, bytes=0, dropped=0, policy=None)
    )
    counters: dict[str, int] = msgspec.field(default_factory=lambda: {})


class MessageOriginWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    status: Literal["verified", "unsigned", "unknown_key", "bad_signature", "identity_mismatch"]
    key_id: str | None = None
    reason: str | None = None


class CanhgacWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    contract_version: int = msgspec.field(default_factory=lambda: 1)
    system: InformationSystemWire
    file: FileExtraWire | None = None
    auth: AuthExtraWire | None = None
    health: AgentHealthWire | None = None
    origin: MessageOriginWire | None = None


class EcsVersionWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    version: str = msgspec.field(default_factory=lambda: "9.1.0")


class FileInfoWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    path: str
    name: str | None = None
    directory: str | None = None
    extension: str | None = None
    type: Literal["file", "dir", "symlink", "other"] | None = None
    size: int | None = None
    mode: Annotated[str, msgspec.Meta(pattern="^0[0-7]{3,5}\\Z")] | None = None
    uid: str | None = None
    gid: str | None = None
    owner: str | None = None
    group: str | None = None
    inode: str | None = None
    mtime: datetime | None = None
    target_path: str | None = None
    hash: HashWire | None = None


class FileEventWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    timestamp: datetime = msgspec.field(name="@timestamp")
    event: EventMetaWire
    host: HostInfoWire
    agent: AgentInfoWire
    organization: OrganizationWire
    canhgac: CanhgacWire
    ecs: EcsVersionWire = msgspec.field(default_factory=lambda: EcsVersionWire(version="9.1.0"))
    message: str | None = None
    tags: list[str] | None = None
    file: FileInfoWire


class UserTargetWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str | None = None
    id: str | None = None


class UserRefWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str | None = None
    id: str | None = None
    target: UserTargetWire | None = None


class GroupRefWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str | None = None
    id: str | None = None


class ParentProcessWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    pid: int | None = None
    entity_id: str | None = None
    executable: str | None = None
    name: str | None = None
    command_line: str | None = None
    args: list[str] | None = None


class ProcessInfoWire(msgspec.Struct, kw_only=True, omit_defaults=True):
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
    user: UserRefWire | None = None
    group: GroupRefWire | None = None
    parent: ParentProcessWire | None = None
    hash: HashWire | None = None


class ProcessEventWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    timestamp: datetime = msgspec.field(name="@timestamp")
    event: EventMetaWire
    host: HostInfoWire
    agent: AgentInfoWire
    organization: OrganizationWire
    canhgac: CanhgacWire
    ecs: EcsVersionWire = msgspec.field(default_factory=lambda: EcsVersionWire(version="9.1.0"))
    message: str | None = None
    tags: list[str] | None = None
    process: ProcessInfoWire
    user: UserRefWire | None = None


class SourceWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    ip: str | None = None
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] | None = None
    address: str | None = None


class AuthenticationEventWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    timestamp: datetime = msgspec.field(name="@timestamp")
    event: EventMetaWire
    host: HostInfoWire
    agent: AgentInfoWire
    organization: OrganizationWire
    canhgac: CanhgacWire
    ecs: EcsVersionWire = msgspec.field(default_factory=lambda: EcsVersionWire(version="9.1.0"))
    message: str | None = None
    tags: list[str] | None = None
    user: UserRefWire | None = None
    group: GroupRefWire | None = None
    source: SourceWire | None = None
    process: ProcessInfoWire | None = None
    related: dict[str, list[str]] | None = None


class HeartbeatEventWire(msgspec.Struct, kw_only=True, omit_defaults=True):
    timestamp: datetime = msgspec.field(name="@timestamp")
    event: EventMetaWire
    host: HostInfoWire
    agent: AgentInfoWire
    organization: OrganizationWire
    canhgac: CanhgacWire
    ecs: EcsVersionWire = msgspec.field(default_factory=lambda: EcsVersionWire(version="9.1.0"))
    message: str | None = None
    tags: list[str] | None = None


STRUCT_BY_DATASET: dict[str, type[Any]] = {
    "canhgac.file": FileEventWire,
    "canhgac.process": ProcessEventWire,
    "canhgac.authentication": AuthenticationEventWire,
    "canhgac.heartbeat": HeartbeatEventWire,
}
"""The wire type of each ``event.dataset``."""

encode_struct: Callable[[Any], bytes] = msgspec.json.Encoder().encode
"""The JSON form of a wire Struct: byte for byte what :func:`event_contract.encode_event` gives for the
same event, up to the spelling of floats and escapes (equal once parsed)."""
