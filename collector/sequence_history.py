"""What the events index remembers of verified sequence numbers: the tracker's state after a restart.

Both questions refresh the events indices first (a search sees only refreshed documents; a batch's events
are written without a refresh), and count only events whose origin the collector verified, so a forged
event cannot move a real agent's numbers. See :mod:`collector.sequence_tracker`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from elasticsearch import AsyncElasticsearch

from collector.sinks.elasticsearch import unavailable_as_sink_error

VERIFIED = {"term": {"canhgac.origin.status": "verified"}}
CHUNK = 500


class ElasticsearchSequenceHistory:
    """:class:`collector.sequence_tracker.SequenceHistory` over the ``{prefix}events-*`` indices."""

    def __init__(self, client: AsyncElasticsearch, prefix: str) -> None:
        self._client = client
        self._pattern = f"{prefix}events-*"

    async def last_sequences(self, agent_ids: Collection[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        await self._refresh()
        ids = sorted(agent_ids)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            response = await self._search(
                {
                    "size": 0,
                    "query": {"bool": {"filter": [VERIFIED, {"terms": {"agent.id": chunk}}]}},
                    "aggs": {
                        "agents": {
                            "terms": {"field": "agent.id", "size": len(chunk)},
                            "aggs": {"last": {"max": {"field": "event.sequence"}}},
                        }
                    },
                }
            )
            buckets = ((response.get("aggregations") or {}).get("agents") or {}).get("buckets", [])
            for bucket in buckets:
                if bucket["last"]["value"] is not None:
                    found[str(bucket["key"])] = int(bucket["last"]["value"])
        return found

    async def event_ids_at(self, pairs: Collection[tuple[str, int]]) -> dict[tuple[str, int], set[str]]:
        found: dict[tuple[str, int], set[str]] = {}
        await self._refresh()
        ordered = sorted(pairs)
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start : start + CHUNK]
            should = [
                {"bool": {"filter": [{"term": {"agent.id": agent}}, {"term": {"event.sequence": seq}}]}}
                for agent, seq in chunk
            ]
            response = await self._search(
                {
                    "size": min(10_000, len(chunk) * 4),
                    "_source": ["agent.id", "event.sequence", "event.id"],
                    "query": {"bool": {"filter": [VERIFIED], "should": should, "minimum_should_match": 1}},
                }
            )
            for hit in response["hits"]["hits"]:
                source = hit["_source"]
                key = (str(source["agent"]["id"]), int(source["event"]["sequence"]))
                found.setdefault(key, set()).add(str(source["event"]["id"]))
        return found

    async def _refresh(self) -> None:
        with unavailable_as_sink_error(f"cannot refresh {self._pattern}"):
            await self._client.indices.refresh(
                index=self._pattern, ignore_unavailable=True, allow_no_indices=True
            )

    async def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        with unavailable_as_sink_error("sequence history search failed"):
            response = await self._client.search(
                index=self._pattern, ignore_unavailable=True, allow_no_indices=True, **body
            )
        return dict(response.body)
