"""Configuration of the login sensor (a section of the agent's YAML config)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.config_rules import paths_as_sources

DEFAULT_AUTH_LOGS = ("/var/log/auth.log", "/var/log/secure")


class AuthLogSource(BaseModel):
    """One log file to follow.

    ``program`` is for a log written without syslog headers, such as ``sshd -E FILE``: every line is
    then taken as a message of that program, timestamped when read.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path
    program: str | None = None


class LoginConfig(BaseModel):
    """Which auth logs to follow and what to report from them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    sources: list[AuthLogSource] = Field(
        default_factory=lambda: [AuthLogSource(path=Path(path)) for path in DEFAULT_AUTH_LOGS]
    )
    """Debian's and RHEL's auth logs by default; the absent ones are checked again on every poll."""
    poll_interval_s: Annotated[float, Field(gt=0)] = 0.5
    start_at_end: bool = True
    """On the very first run (no saved position) skip what the log already holds."""
    report_unparsed: bool = True
    """Lines of known programs that no parser understands are still sent (type info, raw ``message``),
    so Sigma keyword rules see them."""
    ignored_pam_services: list[str] = Field(default_factory=lambda: ["cron", "systemd-user"])
    """PAM sessions of these services (cron runs a session per job) are not reported."""
    max_read_bytes: Annotated[int, Field(ge=4096)] = 1024 * 1024
    """Read at most this much per file per poll, so one huge burst cannot stall the others."""

    @field_validator("sources", mode="before")
    @classmethod
    def _paths_as_sources(cls, value: Any) -> Any:
        """Accept plain paths in the list: ``sources: [/var/log/auth.log]``."""
        return paths_as_sources(value)
