"""The collector's configuration: one YAML file (``/etc/canhgac/collector.yaml``) with environment overrides.

Environment variables ``CANHGAC_COLLECTOR__SECTION__KEY`` override the file (``__`` separates levels), so
a systemd credential or a test can change one value without a file. Validation errors name the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from collector.sinks.base import RetainedFamily
from event_contract import DEAD_LETTER_TOPIC, EVENTS_TOPIC
from event_contract.kafka_security import KafkaSecurity

DEFAULT_CONFIG_PATH = Path("/etc/canhgac/collector.yaml")


def _default_retention() -> dict[RetainedFamily, int]:
    return {"events": 90, "alerts": 730, "audit": 1825}


ENV_PREFIX = "CANHGAC_COLLECTOR__"
REPO_RULES = Path(__file__).resolve().parent.parent / "rules"
# Secrets set from the environment are taken as they are (YAML would read "123" or "no" as a number or bool).
RAW_ENVIRONMENT_KEYS = frozenset({"password", "api_key"})


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KafkaSettings(Section, KafkaSecurity):
    """Where events come from; TLS/SASL fields from :class:`KafkaSecurity`."""

    bootstrap: str = "127.0.0.1:9092"
    events_topic: str = EVENTS_TOPIC
    dead_letter_topic: str = DEAD_LETTER_TOPIC
    correlation_topic: str = "canhgac.correlation"
    group_id: str = "canhgac-collector"
    max_batch: Annotated[int, Field(ge=1, le=100_000)] = 2000
    poll_timeout_ms: Annotated[int, Field(ge=1)] = 200


class ElasticsearchSettings(Section):
    """Where and how to reach Elasticsearch. Credentials: an API key, or a user and password, each given
    inline (``SecretStr``: never shown in a repr or a log) or read from a file (a systemd credential).
    Certificates are verified unless ``verify_certs`` is false; ``ca_certs`` names the CA bundle."""

    url: str = "http://127.0.0.1:9200"
    index_prefix: str = "canhgac-"
    index_events: bool = True
    api_key: SecretStr | None = None
    api_key_file: Path | None = None
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    ca_certs: Path | None = None
    verify_certs: bool = True
    request_timeout_s: Annotated[float, Field(gt=0)] = 30.0
    # Any family left out is kept for ever; a misspelt one is refused rather than silently never applied.
    retention_days: dict[RetainedFamily, Annotated[int, Field(ge=1)]] = Field(
        default_factory=_default_retention
    )

    @model_validator(mode="after")
    def _credentials(self) -> ElasticsearchSettings:
        problems = []
        if self.api_key is not None and self.api_key_file is not None:
            problems.append("api_key and api_key_file: give one of them")
        if self.password is not None and self.password_file is not None:
            problems.append("password and password_file: give one of them")
        has_password = self.password is not None or self.password_file is not None
        if has_password and not self.username:
            problems.append("username: required with password or password_file")
        if self.username and not has_password:
            problems.append("password or password_file: required with username")
        if (self.api_key is not None or self.api_key_file is not None) and self.username:
            problems.append("api_key and username: give an API key or a user, not both")
        for url in (part.strip() for part in self.url.split(",")):
            if not url.startswith(("http://", "https://")):
                problems.append(f"url: expected http:// or https:// URLs, got {url!r}")
        if problems:
            raise ValueError("; ".join(f"elasticsearch.{problem}" for problem in problems))
        return self


class DetectionSettings(Section):
    rules: list[Path] = Field(default_factory=lambda: [REPO_RULES / "sigma"])
    pipeline: Path | None = REPO_RULES / "pipelines" / "linux-ecs.yml"


class IncidentSettings(Section):
    window_s: Annotated[float, Field(gt=0)] = 3600.0


class ApiSettings(Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    silent_agent_factor: Annotated[float, Field(gt=1)] = 3.0
    # HTTPS when both are set (PEM files; the key readable by the service user only).
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None

    @model_validator(mode="after")
    def _tls_pair(self) -> ApiSettings:
        if (self.tls_certfile is None) != (self.tls_keyfile is None):
            raise ValueError("tls_certfile and tls_keyfile go together: set both or neither")
        return self


class MetricsSettings(Section):
    """Prometheus ``/metrics`` of ``canhgac-collector run``; port 0 (the default) serves none."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 0


class OriginSettings(Section):
    """Who may send which events (``collector.origin``): a keyring of enrolled agents' signing keys.
    ``mode`` defaults to ``flag`` when a keyring is given, else ``off``."""

    keyring: Path | None = None
    mode: Literal["off", "flag"] | None = None
    check_sequences: bool = True

    @field_validator("mode", mode="before")
    @classmethod
    def _yaml_off(cls, value: object) -> object:
        return "off" if value is False else value  # YAML 1.1 reads a bare off as false

    @model_validator(mode="after")
    def _flag_needs_keyring(self) -> OriginSettings:
        if self.mode == "flag" and self.keyring is None:
            raise ValueError("mode flag needs a keyring")
        return self

    @property
    def effective_mode(self) -> Literal["off", "flag"]:
        return self.mode or ("flag" if self.keyring is not None else "off")


class CollectorSettings(Section):
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    elasticsearch: ElasticsearchSettings = Field(default_factory=ElasticsearchSettings)
    detection: DetectionSettings = Field(default_factory=DetectionSettings)
    incidents: IncidentSettings = Field(default_factory=IncidentSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    origin: OriginSettings = Field(default_factory=OriginSettings)


class ConfigError(ValueError):
    """The configuration is unusable; the message names every offending key."""


def load_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> CollectorSettings:
    """Read ``path`` (if it exists, or if it was asked for explicitly), then apply environment overrides."""
    document: dict[str, Any] = {}
    chosen = path or DEFAULT_CONFIG_PATH
    if chosen.exists():
        try:
            loaded = yaml.safe_load(chosen.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            raise ConfigError(f"{chosen}: not valid YAML: {error}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{chosen}: expected a mapping at the top level")
        document = loaded
    elif path is not None:
        raise ConfigError(f"{path}: no such file")
    _apply_environment(document, os.environ if environ is None else environ)
    try:
        return CollectorSettings.model_validate(document)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors()
        ]
        raise ConfigError(f"{chosen}: " + "; ".join(problems)) from None


def _apply_environment(document: dict[str, Any], environ: Any) -> None:
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        steps = key[len(ENV_PREFIX) :].lower().split("__")
        node = document
        for step in steps[:-1]:
            node = node.setdefault(step, {})
        raw = not value or steps[-1] in RAW_ENVIRONMENT_KEYS
        node[steps[-1]] = value if raw else yaml.safe_load(value)
