"""Settings and the store for ``canhgac-collector api`` and ``token``.

Both read the collector's configuration file (:mod:`collector.config`: ``/etc/canhgac/collector.yaml`` and
``CANHGAC_COLLECTOR__*`` environment overrides), so a deployment configures Elasticsearch once; a few
command-line flags override it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from collector.config import CollectorSettings, ElasticsearchSettings, load_settings
from collector.es_client import elasticsearch_client
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


def open_store(settings: ElasticsearchSettings, refresh: Refresh) -> ElasticStore:
    return ElasticStore(elasticsearch_client(settings), IndexNames(settings.index_prefix), refresh=refresh)
