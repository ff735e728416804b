"""How a Kafka client proves who it is and whom it trusts: the settings the agent and the collector share.

Both sides' ``kafka`` configuration sections include these fields; each side turns them into aiokafka
arguments in one helper (``agent.publisher.security_options``, ``collector.kafka.security_options``).
The password comes inline (kept as a ``SecretStr``, so it never shows in a log or a repr) or, better, from
a file readable by the service only. The rules themselves are in :mod:`event_contract.kafka_rules`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, SecretStr, model_validator

from event_contract.kafka_rules import sasl_password, security_problems

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class KafkaSecurity(BaseModel):
    """TLS and SASL settings of a Kafka client. Errors name the key they are about."""

    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    ssl_cafile: Path | None = None
    """The CA that signed the brokers' certificates; empty means the system's trusted CAs."""
    ssl_certfile: Path | None = None
    """A client certificate (PEM) for mutual TLS, with ``ssl_keyfile``."""
    ssl_keyfile: Path | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if problems := security_problems(self):
            raise ValueError("; ".join(problems))
        return self

    def sasl_password(self) -> str | None:
        """The password, read from ``password_file`` when that is how it is given (OSError if unreadable)."""
        return sasl_password(self)
