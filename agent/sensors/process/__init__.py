"""Process execs and exits from the kernel's proc connector, enriched from /proc."""

from agent.sensors.process.config import ProcessConfig
from agent.sensors.process.sensor import ProcessSensor

__all__ = ["ProcessConfig", "ProcessSensor"]
