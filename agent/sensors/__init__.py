"""Sensors: one module per source of observations (file_integrity, process, login, heartbeat)."""

from __future__ import annotations

# Not from typing: the listener process imports this package, and typing costs it ~0.5 MiB of RSS
# (mypy knows the name TYPE_CHECKING).
TYPE_CHECKING = False

if TYPE_CHECKING:
    from agent.sensors.base import Observation, Sensor

__all__ = ["Observation", "Sensor"]


def __getattr__(name: str) -> object:
    """``Observation`` and ``Sensor`` on first use: a sensor's helper process (the process sensor's
    listener) imports this package without needing the contract that ``base`` imports."""
    if name in __all__:
        from agent.sensors import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
