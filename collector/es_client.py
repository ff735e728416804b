"""The one way this project opens an Elasticsearch client: configured credentials, CA and timeout.

The collector pipeline, the API and the token command all come through here, so TLS verification and
credentials are configured once (``elasticsearch`` section of :mod:`collector.config`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from elasticsearch import AsyncElasticsearch
from pydantic import SecretStr

from collector.config import ConfigError, ElasticsearchSettings


def _secret(inline: SecretStr | None, file: Path | None, key: str) -> str | None:
    if inline is not None:
        return inline.get_secret_value()
    if file is not None:
        try:
            return file.read_text(encoding="utf-8").strip()
        except OSError as error:  # read when the process starts: a clear message, not a traceback
            raise ConfigError(f"elasticsearch.{key}: cannot read {file}: {error.strerror}") from None
    return None


def client_options(settings: ElasticsearchSettings) -> dict[str, Any]:
    """Keyword arguments for ``AsyncElasticsearch``/``Elasticsearch`` (they hold secrets: never log them)."""
    options: dict[str, Any] = {
        "request_timeout": settings.request_timeout_s,
        "verify_certs": settings.verify_certs,
    }
    api_key = _secret(settings.api_key, settings.api_key_file, "api_key_file")
    if api_key:
        options["api_key"] = api_key
    elif settings.username:
        password = _secret(settings.password, settings.password_file, "password_file")
        options["basic_auth"] = (settings.username, password or "")
    if settings.ca_certs:
        options["ca_certs"] = str(settings.ca_certs)
    if not settings.verify_certs:
        # Chosen explicitly in the configuration: no warning on every request.
        options["ssl_show_warn"] = False
    return options


def elasticsearch_client(settings: ElasticsearchSettings) -> AsyncElasticsearch:
    """A client with the configured credentials (API key, or user and password) and CA."""
    # "https://es1:9200,https://es2:9200": requests are spread over the nodes; a dead one is skipped.
    hosts = [url.strip() for url in settings.url.split(",") if url.strip()]
    return AsyncElasticsearch(hosts, **client_options(settings))
