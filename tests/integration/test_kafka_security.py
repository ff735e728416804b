"""Kafka on the real stack refuses whoever it should: no TLS, no or wrong credentials, an untrusted broker
certificate, and principals acting beyond their ACLs (agents produce to the events topic and nothing else;
the collector consumes it and writes dead letters)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from event_contract import DEAD_LETTER_TOPIC, EVENTS_TOPIC
from tests.support.kafka import KafkaAccess

pytestmark = pytest.mark.integration

REFUSAL_S = 60
"""A refused client must fail within this; hanging would hide whether it was refused at all."""


@pytest.fixture(scope="module")
def agents(stack) -> tuple[KafkaAccess, KafkaAccess]:
    """Two agent principals, created with the stack's own command (the way an operator would)."""
    if not stack.kafka.secure:
        pytest.skip("the stack was brought up with --insecure")
    suffix = uuid.uuid4().hex[:6]
    return stack.add_agent(f"sec-a-{suffix}"), stack.add_agent(f"sec-b-{suffix}")


async def admin_can_connect(access: KafkaAccess, **overrides: Any) -> list[str]:
    """Topics listed by an admin client of ``access`` (raises when Kafka refuses the connection)."""
    client = AIOKafkaAdminClient(**(access.client_kwargs() | overrides), request_timeout_ms=10_000)
    try:
        await asyncio.wait_for(client.start(), REFUSAL_S)
        return list(await client.list_topics())
    finally:
        await client.close()


async def produce(access: KafkaAccess, topic: str, value: bytes) -> int:
    """Offset of ``value`` produced to ``topic`` as ``access`` (idempotent, acks=all, like the agent)."""
    producer = AIOKafkaProducer(
        **access.client_kwargs(), acks="all", enable_idempotence=True, request_timeout_ms=10_000
    )
    try:
        await asyncio.wait_for(producer.start(), REFUSAL_S)
        metadata = await asyncio.wait_for(producer.send_and_wait(topic, value), REFUSAL_S)
        return int(metadata.offset)
    finally:
        await producer.stop()


async def consume(access: KafkaAccess, topic: str, group: str | None, until: bytes) -> list[bytes]:
    """Values read from ``topic`` from the beginning until ``until`` appears, as ``access``."""
    consumer = AIOKafkaConsumer(
        topic,
        **access.client_kwargs(),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        request_timeout_ms=10_000,
    )
    values: list[bytes] = []
    try:
        await asyncio.wait_for(consumer.start(), REFUSAL_S)
        async with asyncio.timeout(REFUSAL_S):
            while until not in values:
                batches = await consumer.getmany(timeout_ms=500)
                values += [record.value for records in batches.values() for record in records]
    finally:
        await consumer.stop()
    return values


async def test_a_plaintext_client_is_refused(stack) -> None:
    plaintext = KafkaAccess(stack.kafka.bootstrap, {"security_protocol": "PLAINTEXT"})

    assert EVENTS_TOPIC in await admin_can_connect(stack.kafka), "the broker is up and lets admin in"
    with pytest.raises(KafkaConnectionError):
        await admin_can_connect(plaintext)


async def test_tls_without_credentials_is_refused(stack) -> None:
    tls_only = KafkaAccess(stack.kafka.bootstrap, {"security_protocol": "SSL"}, stack.kafka.ca_file)

    assert EVENTS_TOPIC in await admin_can_connect(stack.kafka)
    with pytest.raises(KafkaConnectionError):
        await admin_can_connect(tls_only)


async def test_a_wrong_password_is_refused_and_the_right_one_accepted(stack) -> None:
    admin = stack.kafka

    assert EVENTS_TOPIC in await admin_can_connect(admin)
    with pytest.raises(KafkaConnectionError):
        await admin_can_connect(admin.as_user("admin", "not-the-password"))
    with pytest.raises(KafkaConnectionError):
        await admin_can_connect(admin.as_user("nobody", stack.kafka.security["password"]))


async def test_a_client_that_does_not_trust_the_stack_ca_is_refused(stack) -> None:
    # The system's trusted CAs did not sign the broker's certificate: the TLS handshake fails.
    untrusting = stack.kafka.client_kwargs(trust_ca=False)["ssl_context"]

    assert EVENTS_TOPIC in await admin_can_connect(stack.kafka)
    with pytest.raises(KafkaConnectionError):
        await admin_can_connect(stack.kafka, ssl_context=untrusting)


async def test_an_agent_produces_to_the_events_topic_and_nothing_else(stack, agents) -> None:
    agent, _ = agents
    marker = f"agent-can-write-{uuid.uuid4().hex}".encode()

    assert await produce(agent, EVENTS_TOPIC, marker) >= 0
    with pytest.raises(TopicAuthorizationFailedError):
        await consume(agent, EVENTS_TOPIC, None, marker)
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(agent, DEAD_LETTER_TOPIC, b"forged dead letter")
    other = f"it-sec-other-{uuid.uuid4().hex[:8]}"
    await create_topics(stack.kafka, other)
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(agent, other, b"not my topic")


async def test_an_agent_cannot_create_topics(agents) -> None:
    agent, _ = agents
    name = f"it-sec-created-by-agent-{uuid.uuid4().hex[:8]}"

    with pytest.raises(KafkaError):
        await create_topics(agent, name)
    assert name not in await admin_can_connect(agent)


async def test_an_agent_cannot_log_in_with_another_agents_password(agents) -> None:
    first, second = agents

    with pytest.raises(KafkaConnectionError):
        await admin_can_connect(first.as_user(first.security["username"], second.security["password"]))


async def test_the_collector_consumes_events_and_writes_dead_letters(stack, agents) -> None:
    agent, _ = agents
    collector = stack.kafka_as("collector")
    marker = f"for-the-collector-{uuid.uuid4().hex}".encode()
    await produce(agent, EVENTS_TOPIC, marker)

    assert marker in await consume(collector, EVENTS_TOPIC, f"canhgac-it-sec-{uuid.uuid4().hex[:8]}", marker)
    assert await produce(collector, DEAD_LETTER_TOPIC, b"undecodable, kept for an analyst") >= 0
    # Only its own consumer groups (canhgac-...), and it does not produce events.
    with pytest.raises(GroupAuthorizationFailedError):
        await consume(collector, EVENTS_TOPIC, f"someone-else-{uuid.uuid4().hex[:8]}", marker)
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(collector, EVENTS_TOPIC, b"forged event")


async def create_topics(access: KafkaAccess, *names: str) -> None:
    client = AIOKafkaAdminClient(**access.client_kwargs(), request_timeout_ms=10_000)
    await client.start()
    try:
        response = await client.create_topics([NewTopic(name, 1, 1) for name in names])
        failed = [error for _, error, *_ in response.topic_errors if error]
        if failed:
            raise KafkaError(f"CreateTopics refused: error codes {failed}")
    finally:
        await client.close()
