"""The stack's Elasticsearch runs with security on: it refuses missing or wrong credentials, plain HTTP and
clients that do not trust its CA, and each least-privilege role is refused what it was not given."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from elasticsearch import (
    AsyncElasticsearch,
    AuthenticationException,
    AuthorizationException,
    ConnectionError,
    SSLError,
)

from deploy.stack import pki
from tests.integration.es_users import client_as
from tests.integration.test_api_support import unique_prefix

pytestmark = pytest.mark.integration


@pytest.fixture
async def prefix(stack: Any) -> AsyncIterator[str]:
    """A fresh index prefix with an alert and an incident in it, written by the superuser."""
    chosen = unique_prefix()
    async with stack.es.client() as admin:
        await admin.index(index=f"{chosen}alerts-2026.01", id="a1", document={"message": "x"}, refresh=True)
        await admin.index(index=f"{chosen}incidents", id="i1", document={"status": "new"}, refresh=True)
        await admin.index(index=f"{chosen}tokens", id="t1", document={"hash": "h"}, refresh=True)
        try:
            yield chosen
        finally:
            for index in (f"{chosen}alerts-2026.01", f"{chosen}incidents", f"{chosen}tokens"):
                await admin.indices.delete(index=index, ignore_unavailable=True)


async def test_no_credentials_are_refused(stack: Any) -> None:
    async with AsyncElasticsearch(stack.es_url, ca_certs=stack.ca_file) as anonymous:
        with pytest.raises(AuthenticationException) as refused:
            await anonymous.cluster.health()
    assert refused.value.status_code == 401


@pytest.mark.parametrize("user", ["elastic", "canhgac-collector"])
async def test_a_wrong_password_is_refused(stack: Any, user: str) -> None:
    async with AsyncElasticsearch(
        stack.es_url, ca_certs=stack.ca_file, basic_auth=(user, "not-the-password")
    ) as wrong:
        with pytest.raises(AuthenticationException) as refused:
            await wrong.cluster.health()
    assert refused.value.status_code == 401


async def test_the_right_password_is_accepted(stack: Any) -> None:
    """The control for the refusals above: same client, the stack's credentials."""
    async with stack.es.client() as client:
        assert (await client.security.authenticate())["username"] == "elastic"
    async with client_as(stack, "analyst") as analyst:
        assert (await analyst.security.authenticate())["roles"] == ["canhgac_analyst"]


async def test_plain_http_to_the_https_port_fails(stack: Any) -> None:
    assert stack.es_url.startswith("https://")
    plain = stack.es_url.replace("https://", "http://", 1)
    credentials = stack.es.client_kwargs()["basic_auth"]
    async with AsyncElasticsearch(plain, basic_auth=credentials, max_retries=0) as client:
        with pytest.raises(ConnectionError):
            await client.cluster.health()
    # Nor does any HTTP answer come back over the plain connection.
    async with httpx.AsyncClient(timeout=5) as raw:
        with pytest.raises(httpx.HTTPError):
            await raw.get(f"{plain}/_cluster/health", auth=credentials)


async def test_a_client_that_does_not_trust_the_stack_ca_fails(stack: Any, tmp_path: Path) -> None:
    credentials = stack.es.client_kwargs()["basic_auth"]
    other_ca = pki.ensure_ca(tmp_path / "other-pki", name="Someone else's CA")
    system_cas = AsyncElasticsearch(stack.es_url, basic_auth=credentials, max_retries=0)
    private_ca = AsyncElasticsearch(
        stack.es_url, basic_auth=credentials, max_retries=0, ca_certs=str(other_ca)
    )
    for client in (system_cas, private_ca):
        async with client:
            with pytest.raises(SSLError):
                await client.cluster.health()


async def test_the_analyst_reads_but_cannot_write(stack: Any, prefix: str) -> None:
    async with client_as(stack, "analyst") as analyst:
        found = await analyst.search(index=f"{prefix}alerts-*")
        assert found["hits"]["total"]["value"] == 1
        with pytest.raises(AuthorizationException) as refused:
            await analyst.index(index=f"{prefix}alerts-2026.01", document={"message": "forged"})
        assert refused.value.status_code == 403
        with pytest.raises(AuthorizationException):
            await analyst.update(index=f"{prefix}incidents", id="i1", doc={"status": "closed"})
        with pytest.raises(AuthorizationException):
            await analyst.delete(index=f"{prefix}alerts-2026.01", id="a1")
        with pytest.raises(AuthorizationException):  # API token records are not for analysts
            await analyst.search(index=f"{prefix}tokens")


async def test_the_collector_cannot_delete_indices_or_read_security_settings(stack: Any, prefix: str) -> None:
    async with client_as(stack, "collector") as collector:
        for index in (f"{prefix}incidents", f"{prefix}tokens", ".security", "other-index"):
            with pytest.raises(AuthorizationException) as refused:
                await collector.indices.delete(index=index)
            assert refused.value.status_code == 403
        for read_security in (
            collector.security.get_user,
            collector.security.get_role,
            collector.security.get_settings,
        ):
            with pytest.raises(AuthorizationException):
                await read_security()
        with pytest.raises(AuthorizationException):
            await collector.cluster.put_settings(persistent={"action.destructive_requires_name": True})
    async with stack.es.client() as admin:
        assert await admin.indices.exists(index=f"{prefix}incidents")
