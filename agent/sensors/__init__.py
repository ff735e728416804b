"""Sensors: one module per source of observations (file_integrity, process, login, heartbeat)."""

from agent.sensors.base import Observation, Sensor

__all__ = ["Observation", "Sensor"]
