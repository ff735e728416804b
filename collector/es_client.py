"""The one way this project opens an Elasticsearch client: configured credentials, CA and timeout."""

from __future__ import annotations

from typing import Any

from elasticsearch import AsyncElasticsearch

from collector.config import ElasticsearchSettings


def elasticsearch_client(settings: ElasticsearchSettings) -> AsyncElasticsearch:
    """A client with the configured credentials (API key, or user and password file) and CA."""
    options: dict[str, Any] = {"request_timeout": settings.request_timeout_s}
    if settings.api_key_file:
        options["api_key"] = settings.api_key_file.read_text(encoding="utf-8").strip()
    elif settings.username and settings.password_file:
        password = settings.password_file.read_text(encoding="utf-8").strip()
        options["basic_auth"] = (settings.username, password)
    if settings.ca_certs:
        options["ca_certs"] = str(settings.ca_certs)
    # "https://es1:9200,https://es2:9200": requests are spread over the nodes; a dead one is skipped.
    hosts = [url.strip() for url in settings.url.split(",") if url.strip()]
    return AsyncElasticsearch(hosts, **options)
