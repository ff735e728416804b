"""The contract between sensors and the agent's runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from event_contract.datasets import Dataset
from event_contract.wire_types import SensorHealthWire as SensorHealth


@dataclass(frozen=True, slots=True)
class Observation:
    """What a sensor saw, before the runtime adds identity (host, agent, agency, system, sequence, id).

    ``fields`` holds the ECS groups specific to the dataset, as the contract names them, e.g.
    ``{"file": {...}, "canhgac": {"file": {"previous": {...}}}}`` or ``{"process": {...}, "user": {...}}``.
    The runtime validates the assembled event against the contract, so a sensor bug is caught on the
    server that has it, not in the collector.
    """

    dataset: Dataset
    category: tuple[str, ...]
    type: tuple[str, ...]
    action: str
    timestamp: datetime
    fields: dict[str, Any] = field(default_factory=dict)
    outcome: str | None = None
    message: str | None = None


class Sensor(Protocol):
    """A source of observations.

    Lifecycle: constructed from its configuration section; ``observe()`` is iterated once by the runtime
    and yields observations until the runtime cancels it (it must release its resources on cancellation
    and must not swallow ``CancelledError``). A sensor never touches the spool or Kafka; back-pressure
    reaches it through the runtime awaiting between items. ``health()`` may be called at any time from the
    same event loop and never blocks.
    """

    name: str

    def observe(self) -> AsyncIterator[Observation]: ...

    def health(self) -> SensorHealth: ...
