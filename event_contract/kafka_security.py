"""How a Kafka client proves who it is and whom it trusts: the settings the agent and the collector share.

Both sides' ``kafka`` configuration sections include these fields; each side turns them into aiokafka
arguments in one helper (``agent.publisher.security_options``, ``collector.kafka.security_options``).
The password comes inline (kept as a ``SecretStr``, so it never shows in a log or a repr) or, better, from
a file readable by the service only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, SecretStr, model_validator

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
        problems = []
        sasl = self.security_protocol.startswith("SASL")
        if sasl and not self.username:
            problems.append(f"username: required with security_protocol {self.security_protocol}")
        if sasl and self.password is None and self.password_file is None:
            problems.append(f"password or password_file: required with {self.security_protocol}")
        if self.password is not None and self.password_file is not None:
            problems.append("password, password_file: give one of them, not both")
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            problems.append("ssl_certfile, ssl_keyfile: a client certificate needs both")
        tls = self.security_protocol in ("SSL", "SASL_SSL")
        for key in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            if getattr(self, key) is not None and not tls:
                problems.append(f"{key}: only used with security_protocol SSL or SASL_SSL")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def sasl_password(self) -> str | None:
        """The password, read from ``password_file`` when that is how it is given (OSError if unreadable)."""
        if self.password_file is not None:
            return self.password_file.read_text(encoding="utf-8").strip()
        return self.password.get_secret_value() if self.password is not None else None
