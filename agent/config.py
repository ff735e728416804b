"""The agent's configuration: one YAML file, overridable by environment variables, validated at start.

Sources, later wins: the YAML file (``/etc/canhgac/agent.yaml`` unless ``--config`` names another), then
``CANHGAC_AGENT__SECTION__KEY=value`` variables (nested with ``__``, case-insensitive; the value is read
as a YAML scalar so ``5``, ``true`` and ``[a, b]`` get their natural types). Every error names the key it
is about, e.g. ``kafka.bootstrap: Field required``.

The configuration is defined by the pydantic models of :mod:`agent.config_models`; the agent validates
with the msgspec Structs generated from them (:mod:`agent.config_types`), so that it never loads
pydantic (~19 MiB of RSS). Only a configuration the Structs refuse is handed to the models, whose verdict
is final: they list every problem with its key (msgspec stops at the first), or accept a spelling only
their lax mode knows.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from agent.config_rules import prepare
from agent.config_types import (
    AgentConfig,
    HeartbeatConfig,
    HostConfig,
    KafkaConfig,
    LoggingConfig,
    MetricsConfig,
    OrganizationConfig,
    PipelineConfig,
    SpoolConfig,
    SystemConfig,
)
from event_contract.secret import dec_hook

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_STATE_DIR",
    "AgentConfig",
    "ConfigError",
    "HeartbeatConfig",
    "HostConfig",
    "KafkaConfig",
    "LoggingConfig",
    "MetricsConfig",
    "OrganizationConfig",
    "PipelineConfig",
    "SpoolConfig",
    "SystemConfig",
    "apply_env_overrides",
    "load_config",
    "read_document",
    "validate_config",
    "validate_section",
]

DEFAULT_CONFIG_PATH = Path("/etc/canhgac/agent.yaml")
DEFAULT_STATE_DIR = Path("/var/lib/canhgac-agent")
"""Also the default of ``state_dir`` in :mod:`agent.config_models`."""
ENV_PREFIX = "CANHGAC_AGENT__"
ENV_SEPARATOR = "__"


class ConfigError(ValueError):
    """The configuration cannot be used. ``problems`` lists one ``key: reason`` line per fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> AgentConfig:
    """Read, override and validate. Raises :class:`ConfigError` listing every problem found."""
    return validate_config(read_document(path, environ))


def read_document(path: Path, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The file's document with the environment's overrides applied, not yet validated. Raises
    :class:`ConfigError` if the file cannot be read or parsed or an override is malformed."""
    document = _read_yaml(path)
    apply_env_overrides(document, os.environ if environ is None else environ)
    return document


def validate_config(document: Mapping[str, Any]) -> AgentConfig:
    """The configuration ``document`` gives; raises :class:`ConfigError` listing every problem."""
    config: AgentConfig = validate_section(AgentConfig, "agent.config_models:AgentConfig", document)
    return config


def validate_section(struct: type[Any], model: str, document: Any, prefix: str = "") -> Any:
    """``document`` as a ``struct``, or :class:`ConfigError`. ``model`` (``module:class``) names the
    pydantic model ``struct`` was generated from, which judges what the Struct refuses; ``prefix`` is the
    section's key, put before every key in the messages."""
    try:
        return msgspec.convert(prepare(struct, document), struct, strict=False, dec_hook=dec_hook)
    except msgspec.ValidationError:
        pass
    # Only now pydantic: a configuration error stops the agent anyway.
    import importlib

    from pydantic import ValidationError

    from agent.config_models import describe_validation_error

    module, name = model.split(":")
    try:
        accepted = getattr(importlib.import_module(module), name).model_validate(document)
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error, prefix)) from None
    try:  # a spelling only pydantic's lax mode knows: take its reading
        return msgspec.convert(accepted.model_dump(), struct, dec_hook=dec_hook)
    except msgspec.ValidationError as error:
        raise ConfigError([f"{prefix or '(document)'}: {error}"]) from None


def apply_env_overrides(document: dict[str, Any], environ: Mapping[str, str]) -> None:
    """Set ``CANHGAC_AGENT__A__B=v`` as ``document["a"]["b"] = v``, creating sections as needed."""
    for name in sorted(environ):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        path = [step.lower() for step in name[len(ENV_PREFIX) :].split(ENV_SEPARATOR)]
        if not all(path):
            raise ConfigError([f"{name}: empty key segment in environment override"])
        section = document
        for step in path[:-1]:
            child = section.get(step)
            if not isinstance(child, dict):
                child = {}
                section[step] = child
            section = child
        section[path[-1]] = _scalar(environ[name])


def _scalar(text: str) -> Any:
    import yaml  # here, not at the top: see agent.config_handoff

    try:
        return yaml.safe_load(text) if text else text
    except yaml.YAMLError:
        return text


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml  # here, not at the top: see agent.config_handoff

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError([f"{path}: cannot read: {error.strerror or error}"]) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError([f"{path}: not valid YAML: {error}"]) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError([f"{path}: expected a mapping at the top level, got {type(document).__name__}"])
    return document
