"""Clients of the test stack's least-privilege Elasticsearch users, built the way the collector and the
API build theirs (:func:`collector.es_client.elasticsearch_client` from their settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from elasticsearch import AsyncElasticsearch
from pydantic import SecretStr

from collector.config import ElasticsearchSettings
from collector.es_client import elasticsearch_client


def settings_as(stack: Any, user: str, index_prefix: str) -> ElasticsearchSettings:
    """The ``elasticsearch`` settings of a deployment whose process runs as the stack's ``user``."""
    access = stack.es_as(user)
    return ElasticsearchSettings(
        url=access.url,
        index_prefix=index_prefix,
        ca_certs=Path(access.ca_file),
        username=access.username,
        password=SecretStr(access.password),
    )


def client_as(stack: Any, user: str, index_prefix: str = "canhgac-") -> AsyncElasticsearch:
    return elasticsearch_client(settings_as(stack, user, index_prefix))
