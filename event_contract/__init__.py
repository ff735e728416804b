"""The event wire contract shared by the Canh Gác agent and collector.

Every message on the events topic is one of the models in :mod:`event_contract.events`, serialised as
JSON whose field names follow the Elastic Common Schema (ECS). This package depends on pydantic,
orjson and msgspec only, so an agency server that installs the agent pulls nothing of the collector.
"""

from event_contract.codec import (
    DecodeError,
    decode_event,
    decode_event_document,
    encode_event,
    event_from_dict,
)
from event_contract.ecs import (
    AgentInfo,
    EventMeta,
    Hash,
    HostInfo,
    InformationSystem,
    Organization,
    OsInfo,
    Source,
    UserRef,
)
from event_contract.events import (
    AuthenticationEvent,
    Dataset,
    Event,
    FileEvent,
    HeartbeatEvent,
    ProcessEvent,
)
from event_contract.topics import (
    DEAD_LETTER_TOPIC,
    EVENTS_TOPIC,
    dead_letter_headers,
    message_key,
)
from event_contract.version import CONTRACT_VERSION, ECS_VERSION

__all__ = [
    "CONTRACT_VERSION",
    "DEAD_LETTER_TOPIC",
    "ECS_VERSION",
    "EVENTS_TOPIC",
    "AgentInfo",
    "AuthenticationEvent",
    "Dataset",
    "DecodeError",
    "Event",
    "EventMeta",
    "FileEvent",
    "Hash",
    "HeartbeatEvent",
    "HostInfo",
    "InformationSystem",
    "Organization",
    "OsInfo",
    "ProcessEvent",
    "Source",
    "UserRef",
    "dead_letter_headers",
    "decode_event",
    "decode_event_document",
    "encode_event",
    "event_from_dict",
    "message_key",
]
