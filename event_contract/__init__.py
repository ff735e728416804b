"""The event wire contract shared by the Canh Gác agent and collector.

Every message on the events topic is one of the models in :mod:`event_contract.events`, serialised as
JSON whose field names follow the Elastic Common Schema (ECS). This package depends on pydantic,
orjson and msgspec only, so an agency server that installs the agent pulls nothing of the collector.

Names are imported on first use: the agent takes the pydantic-free ones (``Dataset``, the topics)
without loading the models, and with them pydantic (~19 MiB of RSS).
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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

_LAZY = {
    "DecodeError": "event_contract.codec",
    "decode_event": "event_contract.codec",
    "decode_event_document": "event_contract.codec",
    "encode_event": "event_contract.codec",
    "event_from_dict": "event_contract.codec",
    "AgentInfo": "event_contract.ecs",
    "EventMeta": "event_contract.ecs",
    "Hash": "event_contract.ecs",
    "HostInfo": "event_contract.ecs",
    "InformationSystem": "event_contract.ecs",
    "Organization": "event_contract.ecs",
    "OsInfo": "event_contract.ecs",
    "Source": "event_contract.ecs",
    "UserRef": "event_contract.ecs",
    "AuthenticationEvent": "event_contract.events",
    "Dataset": "event_contract.datasets",
    "Event": "event_contract.events",
    "FileEvent": "event_contract.events",
    "HeartbeatEvent": "event_contract.events",
    "ProcessEvent": "event_contract.events",
    "DEAD_LETTER_TOPIC": "event_contract.topics",
    "EVENTS_TOPIC": "event_contract.topics",
    "dead_letter_headers": "event_contract.topics",
    "message_key": "event_contract.topics",
    "CONTRACT_VERSION": "event_contract.version",
    "ECS_VERSION": "event_contract.version",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


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
