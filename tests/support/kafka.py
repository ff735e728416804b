"""How tests, benchmarks and the demo reach the stack's Kafka: bootstrap, TLS trust and SASL credentials.

The stack's Kafka listens with SASL_SSL and SCRAM users (``deploy/stack/stack.py up --json`` reports the
super user under ``kafka_security`` and the others under ``kafka_users``). :class:`KafkaAccess` turns one
principal's settings into aiokafka keyword arguments or into the ``kafka`` section of an agent's or a
collector's configuration.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.helpers import create_ssl_context
from aiokafka.protocol.admin import CreateAclsRequest


@dataclass(frozen=True)
class KafkaAccess:
    """One principal's way into Kafka. ``security`` holds security_protocol[, sasl_mechanism, username,
    password] as the stack reports them; ``ca_file`` is the stack CA's certificate."""

    bootstrap: str
    security: Mapping[str, str]
    ca_file: str | None = None

    @classmethod
    def from_connection(cls, settings: Mapping[str, Any], user: str | None = None) -> KafkaAccess:
        """The super user (default) or ``user`` (e.g. ``collector``) of a ``stack.py up --json`` document."""
        security = dict(settings.get("kafka_security") or {"security_protocol": "PLAINTEXT"})
        access = cls(settings["kafka_bootstrap"], security, settings.get("ca_file"))
        if user is not None:
            credentials = settings["kafka_users"][user]
            access = access.as_user(credentials["username"], credentials["password"])
        return access

    @property
    def secure(self) -> bool:
        return self.security.get("security_protocol", "PLAINTEXT") != "PLAINTEXT"

    @property
    def username(self) -> str | None:
        return self.security.get("username")

    def as_user(self, username: str, password: str) -> KafkaAccess:
        """The same cluster and trust, another principal."""
        return dataclasses.replace(
            self, security={**self.security, "username": username, "password": password}
        )

    def client_kwargs(self, trust_ca: bool = True) -> dict[str, Any]:
        """aiokafka keyword arguments (``bootstrap_servers`` included) for this principal."""
        protocol = self.security.get("security_protocol", "PLAINTEXT")
        options: dict[str, Any] = {"bootstrap_servers": self.bootstrap, "security_protocol": protocol}
        if protocol in ("SSL", "SASL_SSL"):
            options["ssl_context"] = create_ssl_context(cafile=self.ca_file if trust_ca else None)
        if protocol.startswith("SASL"):
            options["sasl_mechanism"] = self.security["sasl_mechanism"]
            options["sasl_plain_username"] = self.security["username"]
            options["sasl_plain_password"] = self.security["password"]
        return options

    def config(self) -> dict[str, Any]:
        """The ``kafka`` section (bootstrap and security keys) of an agent's or a collector's YAML."""
        section: dict[str, Any] = {"bootstrap": self.bootstrap}
        protocol = self.security.get("security_protocol", "PLAINTEXT")
        section["security_protocol"] = protocol
        if protocol in ("SSL", "SASL_SSL") and self.ca_file:
            section["ssl_cafile"] = self.ca_file
        if protocol.startswith("SASL"):
            section["sasl_mechanism"] = self.security["sasl_mechanism"]
            section["username"] = self.security["username"]
            section["password"] = self.security["password"]
        return section


# Kafka's wire codes (org.apache.kafka.common.acl / resource), for CreateAcls.
RESOURCE_TYPES = {"topic": 2, "group": 3, "cluster": 4, "transactional_id": 5}
PATTERN_TYPES = {"literal": 3, "prefixed": 4}
OPERATIONS = {"all": 2, "read": 3, "write": 4, "create": 5, "delete": 6, "alter": 7, "describe": 8}
ALLOW = 3


async def allow(
    admin: KafkaAccess,
    principal: str,
    resource: str,
    name: str,
    operations: list[str],
    pattern: str = "literal",
) -> None:
    """Grant ``User:principal`` ``operations`` on a resource, through the super user ``admin``.

    aiokafka's admin client has no ACL method but ships the CreateAcls request; tests use it so a
    per-test topic prefix can be granted without starting a JVM (operators use kafka-acls, see
    docs/security.md).
    """
    client = AIOKafkaAdminClient(**admin.client_kwargs())
    await client.start()
    try:
        for operation in operations:
            request = CreateAclsRequest(
                RESOURCE_TYPES[resource],
                name,
                PATTERN_TYPES[pattern],
                f"User:{principal}",
                "*",
                OPERATIONS[operation],
                ALLOW,
            )
            response = await client._send_request(request)
            for error_code, message in response.creation_responses:
                if error_code:
                    raise RuntimeError(f"CreateAcls {resource} {name} {operation}: {error_code} {message}")
    finally:
        await client.close()


async def allow_collector_prefix(admin: KafkaAccess, principal: str, prefix: str) -> None:
    """What the collector needs on one test's topics and consumer groups, all named ``prefix...``."""
    await allow(admin, principal, "topic", prefix, ["read", "write", "create", "describe"], "prefixed")
    await allow(admin, principal, "group", prefix, ["read", "describe"], "prefixed")
