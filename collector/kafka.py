"""Kafka clients configured the one safe way: idempotent acks=all producers, manual-commit consumers."""

from __future__ import annotations

import ssl
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from collector.config import KafkaSettings


def _security(settings: KafkaSettings) -> dict[str, Any]:
    options: dict[str, Any] = {"security_protocol": settings.security_protocol}
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = ssl.create_default_context(
            cafile=str(settings.cafile) if settings.cafile else None
        )
    if settings.sasl_mechanism:
        options["sasl_mechanism"] = settings.sasl_mechanism
        options["sasl_plain_username"] = settings.username
        if settings.password_file:
            options["sasl_plain_password"] = settings.password_file.read_text(encoding="utf-8").strip()
    return options


def producer(settings: KafkaSettings, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        compression_type="gzip",
        linger_ms=5,
        **_security(settings),
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
        **_security(settings),
    )
