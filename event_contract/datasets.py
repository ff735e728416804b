"""The event types by name (``event.dataset``): a module of its own so that code which only needs the
names (the agent's sensors) does not load the pydantic models."""

from __future__ import annotations

from enum import StrEnum


class Dataset(StrEnum):
    FILE = "canhgac.file"
    PROCESS = "canhgac.process"
    AUTHENTICATION = "canhgac.authentication"
    HEARTBEAT = "canhgac.heartbeat"
