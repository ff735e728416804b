"""The rules of the Kafka client security settings, without pydantic: which combinations are consistent,
and where the SASL password comes from.

:class:`event_contract.kafka_security.KafkaSecurity` (the pydantic definition the agent and the collector
share) applies them in its validator; the msgspec Structs generated from it derive from
:class:`KafkaSecurityRules`, which applies them after every conversion.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import msgspec


class SecuritySettings(Protocol):
    @property
    def security_protocol(self) -> str: ...
    @property
    def username(self) -> str | None: ...
    @property
    def password(self) -> Any: ...  # a SecretStr or a Secret: either has get_secret_value()
    @property
    def password_file(self) -> Path | None: ...
    @property
    def ssl_cafile(self) -> Path | None: ...
    @property
    def ssl_certfile(self) -> Path | None: ...
    @property
    def ssl_keyfile(self) -> Path | None: ...


def security_problems(settings: SecuritySettings) -> list[str]:
    """Each inconsistency, naming its keys; empty when the settings can be used."""
    problems = []
    protocol = settings.security_protocol
    sasl = protocol.startswith("SASL")
    if sasl and not settings.username:
        problems.append(f"username: required with security_protocol {protocol}")
    if sasl and settings.password is None and settings.password_file is None:
        problems.append(f"password or password_file: required with {protocol}")
    if settings.password is not None and settings.password_file is not None:
        problems.append("password, password_file: give one of them, not both")
    if (settings.ssl_certfile is None) != (settings.ssl_keyfile is None):
        problems.append("ssl_certfile, ssl_keyfile: a client certificate needs both")
    tls = protocol in ("SSL", "SASL_SSL")
    for key in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
        if getattr(settings, key) is not None and not tls:
            problems.append(f"{key}: only used with security_protocol SSL or SASL_SSL")
    return problems


def sasl_password(settings: SecuritySettings) -> str | None:
    """The password, read from ``password_file`` when that is how it is given (OSError if unreadable)."""
    if settings.password_file is not None:
        return settings.password_file.read_text(encoding="utf-8").strip()
    return settings.password.get_secret_value() if settings.password is not None else None


class KafkaSecurityRules(msgspec.Struct, frozen=True):
    """Base of the Structs generated from ``KafkaSecurity`` models: the same rules, the same method."""

    def __post_init__(self) -> None:
        # msgspec reports a ValueError raised here as a ValidationError at this Struct's path.
        if problems := security_problems(self):  # type: ignore[arg-type]
            raise ValueError("; ".join(problems))

    def sasl_password(self) -> str | None:
        return sasl_password(self)  # type: ignore[arg-type]
