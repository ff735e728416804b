"""Kafka clients configured the one safe way: idempotent acks=all producers, manual-commit consumers."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.helpers import create_ssl_context

from collector.config import KafkaSettings


def security_options(settings: KafkaSettings) -> dict[str, Any]:
    """aiokafka's TLS and SASL arguments (reads the password file; never log the result)."""
    options: dict[str, Any] = {"security_protocol": settings.security_protocol}
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(
            cafile=str(settings.ssl_cafile) if settings.ssl_cafile else None,
            certfile=str(settings.ssl_certfile) if settings.ssl_certfile else None,
            keyfile=str(settings.ssl_keyfile) if settings.ssl_keyfile else None,
        )
    if settings.security_protocol.startswith("SASL"):
        options["sasl_mechanism"] = settings.sasl_mechanism
        options["sasl_plain_username"] = settings.username
        options["sasl_plain_password"] = settings.sasl_password()
    return options


def producer(settings: KafkaSettings, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        compression_type="gzip",
        linger_ms=5,
        **security_options(settings),
    )


def consumer(settings: KafkaSettings, group_id: str, client_id: str, *topics: str) -> AIOKafkaConsumer:
    # Offsets are committed by the pipeline only after everything derived from a batch is durable.
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.bootstrap,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=settings.max_batch,
        **security_options(settings),
    )
