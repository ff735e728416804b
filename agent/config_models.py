"""The definition of the agent's configuration: pydantic models, one per section.

The agent itself validates with msgspec Structs generated from these models and checked in as
:mod:`agent.config_types` (``python -m agent.config_models`` writes that module again; a unit test fails
when it differs from what the models give), so that a running agent never loads pydantic. The models are
loaded only to explain a configuration the Structs refuse (every problem, each with its key) and to
generate the Structs. A field's rules (types, bounds, defaults) are changed here, then regenerated.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.config import DEFAULT_STATE_DIR
from agent.config_rules import upper
from agent.sensors.file_integrity.config import FileIntegrityConfig
from agent.sensors.login.config import LoginConfig
from agent.sensors.process.config import ProcessConfig
from event_contract.kafka_rules import KafkaSecurityRules
from event_contract.kafka_security import KafkaSecurity
from event_contract.structgen import Translator
from event_contract.structsource import render_module
from event_contract.topics import EVENTS_TOPIC

GENERATED = Path(__file__).with_name("config_types.py")
SENSOR_MODELS: tuple[type[BaseModel], ...] = (FileIntegrityConfig, ProcessConfig, LoginConfig)
"""The sensors' configuration models, generated into :mod:`agent.config_types` with the agent's."""


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


class KafkaConfig(Section, KafkaSecurity):
    """Where events go, and how the agent authenticates (TLS/SASL fields from :class:`KafkaSecurity`)."""

    bootstrap: Annotated[str, Field(min_length=1)]
    topic: Annotated[str, Field(min_length=1)] = EVENTS_TOPIC
    client_id: str = "canhgac-agent"
    compression: Literal["gzip", "none"] = "gzip"
    request_timeout_s: Annotated[float, Field(gt=0)] = 30.0
    linger_ms: Annotated[int, Field(ge=0)] = 5


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
        return upper(value)


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


def describe_validation_error(error: ValidationError, prefix: str = "") -> list[str]:
    """One ``dotted.key: message`` line per error, the way an operator reads a config file."""
    problems = []
    for item in error.errors():
        steps = [*([prefix] if prefix else []), *(str(step) for step in item["loc"])]
        location = ".".join(steps)
        problems.append(f"{location or '(document)'}: {item['msg']}")
    return problems


def translator() -> Translator:
    return Translator(
        suffix="",
        module="agent.config_types",
        # Their rules are applied to the Structs too: agent.config_rules.prepare (before), and
        # KafkaSecurityRules.__post_init__ (after).
        known_validators={"_upper", "_paths_as_sources", "_consistent"},
        bases={"KafkaConfig": (KafkaSecurityRules,)},
        forbid_unknown_fields=True,  # as extra="forbid": a typo is an error
        frozen=True,
    )


_DOC = """The agent's configuration as msgspec Structs: what the running agent validates with.

Written by ``python -m agent.config_models`` from the pydantic models that define the configuration (see
:mod:`agent.config_models`); ``tests/unit/agent/test_config_types.py`` fails when this file differs from
what they give. Paths and secrets are converted with :func:`event_contract.secret.dec_hook`."""


def translate_all() -> Translator:
    """A fresh translation of the agent's and the sensors' models (fresh: the order of the Structs must
    not depend on what was translated before)."""
    fresh = translator()
    models: tuple[type[BaseModel], ...] = (AgentConfig, *SENSOR_MODELS)
    for model in models:
        fresh.struct_for(model)
    return fresh


def render() -> str:
    """The source of :mod:`agent.config_types` as the models give it today."""
    fresh = translate_all()
    imports = [
        "from event_contract.kafka_rules import KafkaSecurityRules",
        "from event_contract.secret import Secret",
    ]
    return render_module(_DOC, fresh.translated(), imports)


if __name__ == "__main__":
    GENERATED.write_text(render(), encoding="utf-8")
    sys.exit(0)
