"""The agent's configuration as msgspec Structs: what the running agent validates with.

Written by ``python -m agent.config_models`` from the pydantic models that define the configuration (see
:mod:`agent.config_models`); ``tests/unit/agent/test_config_types.py`` fails when this file differs from
what they give. Paths and secrets are converted with :func:`event_contract.secret.dec_hook`.
"""

from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from event_contract.kafka_rules import KafkaSecurityRules
from event_contract.secret import Secret


class OrganizationConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    id: Annotated[str, msgspec.Meta(min_length=1)]
    name: Annotated[str, msgspec.Meta(min_length=1)]


class SystemConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1)]
    security_level: Annotated[int, msgspec.Meta(ge=1, le=5)]
    id: str | None = None


class KafkaConfig(KafkaSecurityRules, msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    username: str | None = None
    password: Secret | None = None
    password_file: Path | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    bootstrap: Annotated[str, msgspec.Meta(min_length=1)]
    topic: Annotated[str, msgspec.Meta(min_length=1)] = "canhgac.events"
    client_id: str = "canhgac-agent"
    compression: Literal["gzip", "none"] = "gzip"
    request_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    linger_ms: Annotated[int, msgspec.Meta(ge=0)] = 5


class HostConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    id: str | None = None
    name: str | None = None


class SpoolConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    max_bytes: Annotated[int, msgspec.Meta(gt=0)] = 268435456
    max_rows: Annotated[int, msgspec.Meta(gt=0)] = 1000000
    policy: Literal["drop_oldest", "refuse_new"] = "drop_oldest"


class PipelineConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    queue_size: Annotated[int, msgspec.Meta(gt=0)] = 10000
    spool_batch: Annotated[int, msgspec.Meta(gt=0)] = 500
    send_batch: Annotated[int, msgspec.Meta(gt=0)] = 1000
    drain_timeout_s: Annotated[float, msgspec.Meta(ge=0)] = 10.0


class HeartbeatConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    interval_s: Annotated[float, msgspec.Meta(gt=0)] = 60.0


class LoggingConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class MetricsConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    enabled: bool = False
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 9465


class AgentConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    organization: OrganizationConfig
    system: SystemConfig
    kafka: KafkaConfig
    host: HostConfig = msgspec.field(default_factory=lambda: HostConfig(id=None, name=None))
    state_dir: Path = Path("/var/lib/canhgac-agent")
    spool: SpoolConfig = msgspec.field(
        default_factory=lambda: SpoolConfig(max_bytes=268435456, max_rows=1000000, policy="drop_oldest")
    )
    pipeline: PipelineConfig = msgspec.field(
        default_factory=lambda: PipelineConfig(
            queue_size=10000, spool_batch=500, send_batch=1000, drain_timeout_s=10.0
        )
    )
    heartbeat: HeartbeatConfig = msgspec.field(default_factory=lambda: HeartbeatConfig(interval_s=60.0))
    logging: LoggingConfig = msgspec.field(default_factory=lambda: LoggingConfig(level="INFO"))
    metrics: MetricsConfig = msgspec.field(
        default_factory=lambda: MetricsConfig(enabled=False, host="127.0.0.1", port=9465)
    )
    sensors: dict[str, dict[str, Any]] = msgspec.field(default_factory=lambda: {})


class FileIntegrityConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    enabled: bool = True
    paths: list[Path] = msgspec.field(
        default_factory=lambda: [
            Path("/etc"),
            Path("/usr/bin"),
            Path("/usr/sbin"),
            Path("/root/.ssh"),
            Path("/var/www"),
        ]
    )
    recursive: bool = True
    include: list[str] = msgspec.field(default_factory=lambda: ["*"])
    exclude: list[str] = msgspec.field(
        default_factory=lambda: [
            "*.swp",
            "*.swx",
            "*~",
            "*.tmp",
            "/etc/mtab",
            "/etc/ld.so.cache",
            "/etc/adjtime",
        ]
    )
    realtime: bool = True
    rescan_interval_s: Annotated[float, msgspec.Meta(gt=0)] = 3600.0
    fallback_rescan_interval_s: Annotated[float, msgspec.Meta(gt=0)] = 300.0
    debounce_s: Annotated[float, msgspec.Meta(ge=0)] = 0.3
    max_hash_bytes: Annotated[int, msgspec.Meta(ge=0)] = 536870912
    hash_workers: Annotated[int, msgspec.Meta(ge=0)] = 0
    marking_enabled: bool = True
    marking_extensions: list[str] = msgspec.field(
        default_factory=lambda: [
            ".txt",
            ".md",
            ".csv",
            ".tsv",
            ".html",
            ".htm",
            ".xml",
            ".json",
            ".rtf",
            ".log",
        ]
    )
    marking_scan_bytes: Annotated[int, msgspec.Meta(gt=0, le=1048576)] = 4096


class ProcessConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    enabled: bool = True
    source: Literal["auto", "netlink", "poll"] = "auto"
    report_exits: bool = True
    realtime_priority: Annotated[int, msgspec.Meta(ge=0, le=99)] = 10
    socket_buffer_bytes: Annotated[int, msgspec.Meta(ge=65536)] = 16777216
    queue_size: Annotated[int, msgspec.Meta(ge=100)] = 50000
    poll_interval_s: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    hash_executables: bool = True
    max_hash_bytes: Annotated[int, msgspec.Meta(ge=0)] = 268435456
    hash_cache_size: Annotated[int, msgspec.Meta(ge=0)] = 4096


class AuthLogSource(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    path: Path
    program: str | None = None


class LoginConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    enabled: bool = True
    sources: list[AuthLogSource] = msgspec.field(
        default_factory=lambda: [
            AuthLogSource(path=Path("/var/log/auth.log"), program=None),
            AuthLogSource(path=Path("/var/log/secure"), program=None),
        ]
    )
    poll_interval_s: Annotated[float, msgspec.Meta(gt=0)] = 0.5
    start_at_end: bool = True
    report_unparsed: bool = True
    ignored_pam_services: list[str] = msgspec.field(default_factory=lambda: ["cron", "systemd-user"])
    max_read_bytes: Annotated[int, msgspec.Meta(ge=4096)] = 1048576
