"""Settings and the store for ``canhgac-collector api`` and ``token``.

Both read the collector's configuration file (:mod:`collector.config`: ``/etc/canhgac/collector.yaml`` and
``CANHGAC_COLLECTOR__*`` environment overrides), so a deployment configures Elasticsearch once; a few
command-line flags override it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from elasticsearch import AsyncElasticsearch

from collector.config import CollectorSettings, ElasticsearchSettings, load_settings
from collector.store.elastic import ElasticStore, Refresh
from collector.store.naming import IndexNames


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="collector configuration file (default /etc/canhgac/collector.yaml)",
    )
    parser.add_argument("--es-url", default=None, help="Elasticsearch URL (overrides elasticsearch.url)")
    parser.add_argument(
        "--index-prefix", default=None, help="index name prefix (overrides elasticsearch.index_prefix)"
    )


def load(args: argparse.Namespace) -> CollectorSettings:
    """The configuration with the command line's overrides applied; raises ``ConfigError``."""
    settings = load_settings(args.config)
    overrides = {"url": args.es_url, "index_prefix": args.index_prefix}
    elasticsearch = settings.elasticsearch.model_copy(
        update={key: value for key, value in overrides.items() if value is not None}
    )
    return settings.model_copy(update={"elasticsearch": elasticsearch})


def elasticsearch_client(settings: ElasticsearchSettings) -> AsyncElasticsearch:
    """A client with the configured credentials (API key, or user and password) and CA."""
    options: dict[str, Any] = {"request_timeout": settings.request_timeout_s}
    if settings.api_key_file:
        options["api_key"] = settings.api_key_file.read_text(encoding="utf-8").strip()
    elif settings.username and settings.password_file:
        options["basic_auth"] = (
            settings.username,
            settings.password_file.read_text(encoding="utf-8").strip(),
        )
    if settings.ca_certs:
        options["ca_certs"] = str(settings.ca_certs)
    return AsyncElasticsearch(settings.url, **options)


def open_store(settings: ElasticsearchSettings, refresh: Refresh) -> ElasticStore:
    return ElasticStore(elasticsearch_client(settings), IndexNames(settings.index_prefix), refresh=refresh)
