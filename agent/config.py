"""The agent's configuration: one YAML file, overridable by environment variables, validated at start.

Sources, later wins: the YAML file (``/etc/canhgac/agent.yaml`` unless ``--config`` names another), then
``CANHGAC_AGENT__SECTION__KEY=value`` variables (nested with ``__``, case-insensitive; the value is read
as a YAML scalar so ``5``, ``true`` and ``[a, b]`` get their natural types). Every error names the key it
is about, e.g. ``kafka.bootstrap: Field required``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from event_contract import EVENTS_TOPIC

DEFAULT_CONFIG_PATH = Path("/etc/canhgac/agent.yaml")
DEFAULT_STATE_DIR = Path("/var/lib/canhgac-agent")
ENV_PREFIX = "CANHGAC_AGENT__"
ENV_SEPARATOR = "__"


class ConfigError(ValueError):
    """The configuration cannot be used. ``problems`` lists one ``key: reason`` line per fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class Section(BaseModel):
    """A configuration section: unknown keys are errors, so a typo is caught rather than ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class OrganizationConfig(Section):
    """The agency that owns this server."""

    id: Annotated[str, Field(min_length=1)]
    name: Annotated[str, Field(min_length=1)]


class SystemConfig(Section):
    """The information system this server belongs to and its security level (1-5)."""

    name: Annotated[str, Field(min_length=1)]
    security_level: Annotated[int, Field(ge=1, le=5)]
    id: str | None = None


class HostConfig(Section):
    """Overrides of what the agent detects about the host; empty means detect."""

    id: str | None = None
    name: str | None = None


class KafkaConfig(Section):
    """Where events go. The TLS/SASL fields are passed to the producer as they are."""

    bootstrap: Annotated[str, Field(min_length=1)]
    topic: Annotated[str, Field(min_length=1)] = EVENTS_TOPIC
    client_id: str = "canhgac-agent"
    compression: Literal["gzip", "none"] = "gzip"
    request_timeout_s: Annotated[float, Field(gt=0)] = 30.0
    linger_ms: Annotated[int, Field(ge=0)] = 5
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    username: str | None = None
    password_file: Path | None = None
    cafile: Path | None = None


class SpoolConfig(Section):
    """The on-disk queue between capture and delivery and what happens when it is full."""

    max_bytes: Annotated[int, Field(gt=0)] = 256 * 1024 * 1024
    max_rows: Annotated[int, Field(gt=0)] = 1_000_000
    policy: Literal["drop_oldest", "refuse_new"] = "drop_oldest"


class PipelineConfig(Section):
    """Sizes of the in-memory hand-offs."""

    queue_size: Annotated[int, Field(gt=0)] = 10_000
    spool_batch: Annotated[int, Field(gt=0)] = 500
    send_batch: Annotated[int, Field(gt=0)] = 1_000
    drain_timeout_s: Annotated[float, Field(ge=0)] = 10.0


class HeartbeatConfig(Section):
    interval_s: Annotated[float, Field(gt=0)] = 60.0


class MetricsConfig(Section):
    """An optional Prometheus endpoint (``GET /metrics``); off by default, loopback unless told."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 9465


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class AgentConfig(Section):
    """The whole configuration. ``sensors`` maps a sensor name to its own section, which the sensor's
    configuration class validates (see :mod:`agent.sensor_registry`)."""

    organization: OrganizationConfig
    system: SystemConfig
    kafka: KafkaConfig
    host: HostConfig = Field(default_factory=HostConfig)
    state_dir: Path = DEFAULT_STATE_DIR
    spool: SpoolConfig = Field(default_factory=SpoolConfig)
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)
    heartbeat: HeartbeatConfig = Field(default_factory=HeartbeatConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    sensors: dict[str, dict[str, Any]] = Field(default_factory=dict)


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> AgentConfig:
    """Read, override and validate. Raises :class:`ConfigError` listing every problem found."""
    document = _read_yaml(path)
    apply_env_overrides(document, os.environ if environ is None else environ)
    return validate_config(document)


def validate_config(document: Mapping[str, Any]) -> AgentConfig:
    try:
        return AgentConfig.model_validate(document)
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error)) from None


def describe_validation_error(error: ValidationError, prefix: str = "") -> list[str]:
    """One ``dotted.key: message`` line per error, the way an operator reads a config file."""
    problems = []
    for item in error.errors():
        steps = [*([prefix] if prefix else []), *(str(step) for step in item["loc"])]
        location = ".".join(steps)
        problems.append(f"{location or '(document)'}: {item['msg']}")
    return problems


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
    try:
        return yaml.safe_load(text) if text else text
    except yaml.YAMLError:
        return text


def _read_yaml(path: Path) -> dict[str, Any]:
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
