"""Command-line options shared by ``canhgac-collector api`` and ``token``: where Elasticsearch is and
which index prefix to use."""

from __future__ import annotations

import argparse
import os

from elasticsearch import AsyncElasticsearch

from collector.store.elastic import ElasticStore, Refresh
from collector.store.naming import DEFAULT_PREFIX, IndexNames


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--es-url",
        default=os.environ.get("CANHGAC_ES_URL", "http://127.0.0.1:9200"),
        help="Elasticsearch URL (env CANHGAC_ES_URL); an API key may be given in env CANHGAC_ES_API_KEY",
    )
    parser.add_argument(
        "--index-prefix",
        default=os.environ.get("CANHGAC_INDEX_PREFIX", DEFAULT_PREFIX),
        help="prefix of every index name (env CANHGAC_INDEX_PREFIX)",
    )


def open_store(args: argparse.Namespace, refresh: Refresh) -> ElasticStore:
    api_key = os.environ.get("CANHGAC_ES_API_KEY")
    client = AsyncElasticsearch(args.es_url, api_key=api_key, request_timeout=10)
    return ElasticStore(client, IndexNames(args.index_prefix), refresh=refresh)
