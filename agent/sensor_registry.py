"""Where sensors plug in: the ``sensors:`` section of the configuration names them, this table finds them.

Each entry names a package exporting a sensor class constructed as ``SensorClass(config, state_dir)``,
its configuration class (a msgspec Struct generated into :mod:`agent.config_types`) and the pydantic
model that defines it (loaded only to explain a section the Struct refuses). Packages are imported only
when configured, so a build without one (or a server that enables only some) loads nothing it does not
use. A section may say ``enabled: false`` to switch a sensor off without deleting its settings. To add a
sensor: add a line here and its model to ``agent.config_models.SENSOR_MODELS``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.config import AgentConfig, ConfigError, validate_section
from agent.sensors.base import Sensor


@dataclass(frozen=True, slots=True)
class SensorPlugin:
    module: str
    sensor_class: str
    config_class: str
    model: str
    """``module:class`` of the pydantic model ``config_class`` is generated from."""


REGISTRY: Mapping[str, SensorPlugin] = {
    "file_integrity": SensorPlugin(
        "agent.sensors.file_integrity",
        "FileIntegritySensor",
        "FileIntegrityConfig",
        "agent.sensors.file_integrity.config:FileIntegrityConfig",
    ),
    "process": SensorPlugin(
        "agent.sensors.process",
        "ProcessSensor",
        "ProcessConfig",
        "agent.sensors.process.config:ProcessConfig",
    ),
    "login": SensorPlugin(
        "agent.sensors.login", "LoginSensor", "LoginConfig", "agent.sensors.login.config:LoginConfig"
    ),
}


@dataclass(frozen=True, slots=True)
class ConfiguredSensor:
    name: str
    plugin: SensorPlugin
    config: Any


def configured_sensors(config: AgentConfig) -> tuple[list[ConfiguredSensor], list[str]]:
    """Validate each enabled sensor's section with its own configuration class.

    Returns the sensors and the problems, each naming its key (``sensors.process.interval_s: ...``).
    """
    found: list[ConfiguredSensor] = []
    problems: list[str] = []
    for name, section in config.sensors.items():
        settings = dict(section or {})
        enabled = settings.pop("enabled", True)
        if enabled is False:
            continue
        if enabled is not True:
            problems.append(f"sensors.{name}.enabled: must be true or false")
            continue
        plugin = REGISTRY.get(name)
        if plugin is None:
            known = ", ".join(sorted(REGISTRY))
            problems.append(f"sensors.{name}: unknown sensor; known: {known}")
            continue
        try:
            config_class = _attribute(plugin.module, plugin.config_class)
        except ImportError as error:
            problems.append(f"sensors.{name}: not available in this installation ({error})")
            continue
        try:
            config = validate_section(config_class, plugin.model, settings, prefix=f"sensors.{name}")
        except ConfigError as error:
            problems.extend(error.problems)
        else:
            found.append(ConfiguredSensor(name, plugin, config))
    return found, problems


def build_sensor(configured: ConfiguredSensor, state_dir: Path) -> Sensor:
    """Construct one sensor. It shares the agent's state directory and names its own files in it."""
    sensor_class = _attribute(configured.plugin.module, configured.plugin.sensor_class)
    state_dir.mkdir(parents=True, exist_ok=True)
    sensor: Sensor = sensor_class(configured.config, state_dir)
    return sensor


def _attribute(module_name: str, attribute: str) -> Any:
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ImportError(f"{module_name} has no {attribute}") from None
