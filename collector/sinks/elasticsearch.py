"""The Elasticsearch sink: monthly indices under composable templates, deterministic ids, ``op_type=create``.

Works on the minimal distribution (no data streams, ILM or ingest pipelines) and on a full cluster.
A replayed document answers 409, which here means "already indexed", so replays leave one copy.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from elasticsearch import ApiError, AsyncElasticsearch, TransportError
from elasticsearch import ConnectionError as EsConnectionError

from collector.sinks.base import Document, RetainedFamily, SinkUnavailable, WriteReport
from collector.sinks.mappings import alerts_mapping, events_mapping

log = logging.getLogger(__name__)

RETRIABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# Only what write() reads: each item keeps its place (and so its document) with just status and error,
# a fraction of the full response to receive and parse.
_BULK_RESPONSE_FIELDS = "items.*.status,items.*.error"
TEMPLATE_PRIORITY = 300


@contextmanager
def unavailable_as_sink_error(what: str) -> Iterator[None]:
    """Elasticsearch unreachable, overloaded or recovering (no connection; an answer of 429 or 5xx, such
    as 503 while a restarted node has not yet assigned its shards) as :class:`SinkUnavailable`, which
    the pipeline backs off on and retries without committing. Any other answer propagates: it is a
    misconfiguration or a bug, and retrying would hide it."""
    try:
        yield
    except (EsConnectionError, TransportError) as error:
        raise SinkUnavailable(f"{what}: {error}") from error
    except ApiError as error:
        if error.meta.status in RETRIABLE_STATUSES:
            raise SinkUnavailable(f"{what}: {error}") from error
        raise


def index_name(prefix: str, family: str, when: datetime) -> str:
    return f"{prefix}{family}-{when.astimezone(UTC):%Y.%m}"


def index_templates(prefix: str) -> dict[str, dict[str, Any]]:
    settings = {"index": {"number_of_shards": 1, "number_of_replicas": 0, "auto_expand_replicas": "0-1"}}
    mappings = {"events": events_mapping(), "alerts": alerts_mapping()}
    return {
        f"{prefix}{family}": {
            "index_patterns": [f"{prefix}{family}-*"],
            "priority": TEMPLATE_PRIORITY,
            "template": {"settings": settings, "mappings": mapping},
            "_meta": {"owner": "canhgac collector.sinks"},
        }
        for family, mapping in mappings.items()
    }


class ElasticsearchSink:
    """Writes events and alerts with the bulk API. See :class:`collector.sinks.base.DocumentSink`."""

    def __init__(self, client: AsyncElasticsearch, prefix: str, *, refresh_alerts: bool = True) -> None:
        self._client = client
        self._prefix = prefix
        self._refresh_alerts = refresh_alerts

    async def start(self) -> None:
        with unavailable_as_sink_error("cannot install index templates"):
            for name, body in index_templates(self._prefix).items():
                await self._client.indices.put_index_template(name=name, **body)

    async def write(self, documents: Sequence[Document]) -> WriteReport:
        report = WriteReport()
        if not documents:
            return report
        # The NDJSON body is built here with orjson: the client would encode it line by line with the
        # standard library, which costs the collector more CPU than the rest of a batch's events.
        lines: list[bytes] = []
        for document in documents:
            index = index_name(self._prefix, document.family, document.timestamp)
            lines.append(_dumps({"create": {"_index": index, "_id": document.id}}))
            lines.append(_dumps(document.body))
        lines.append(b"")
        # A batch of alerts alone is made searchable at once (a responder waits for it; the alerts index is
        # small, so the refresh is cheap); events wait for the periodic refresh.
        only_alerts = all(document.family == "alerts" for document in documents)
        refresh = "true" if self._refresh_alerts and only_alerts else "false"
        with unavailable_as_sink_error("bulk request failed"):
            response = await self._client.bulk(
                operations=b"\n".join(lines),  # type: ignore[arg-type]  # the client sends bytes as they are
                refresh=refresh,
                filter_path=_BULK_RESPONSE_FIELDS,
            )
        retriable: list[str] = []
        for document, item in zip(documents, response["items"], strict=True):
            result = item["create"]
            status = int(result.get("status", 0))
            if status in (200, 201):
                report.created += 1
            elif status == 409:
                report.already_present += 1
            elif status in RETRIABLE_STATUSES or _is_read_only(result):
                retriable.append(f"{document.id}: {status}")
            else:
                report.rejected[document.id] = _reason(result)
        if retriable:
            # Some documents were written and some not: the caller retries all; the written ones then
            # answer 409, so the retry is exact.
            raise SinkUnavailable(f"{len(retriable)} documents not written, e.g. {retriable[0]}")
        return report

    async def close(self) -> None:
        await self._client.close()

    async def delete_expired(self, family: RetainedFamily, retention: timedelta, now: datetime) -> list[str]:
        """Retention without ILM: drop monthly indices whose whole month is older than ``retention``."""
        with unavailable_as_sink_error(f"cannot list {family} indices"):
            names = await self._client.indices.get(index=f"{self._prefix}{family}-*", expand_wildcards="open")
        expired = []
        for name in names:
            month = datetime.strptime(name.rsplit("-", 1)[1], "%Y.%m").replace(tzinfo=UTC)
            month_end = (month + timedelta(days=32)).replace(day=1)
            if month_end < now - retention:
                expired.append(name)
        for name in expired:
            with unavailable_as_sink_error(f"cannot delete {name}"):
                await self._client.indices.delete(index=name)
            log.info("deleted index past retention", extra={"index": name})
        return expired


def _dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        # What orjson refuses and the standard library writes (a lone surrogate escaped in a string, an
        # integer beyond 64 bits): written as the client itself would have written it.
        return json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode()


def _is_read_only(result: dict[str, Any]) -> bool:
    error = result.get("error") or {}
    return "read_only" in str(error.get("reason", "")) or error.get("type") == "cluster_block_exception"


def _reason(result: dict[str, Any]) -> str:
    error = result.get("error") or {}
    return f"{result.get('status')}: {error.get('type', 'error')}: {error.get('reason', '')}"[:1000]
