"""Elasticsearch answering 503 while a shard is unassigned (a node restarted, a disk lost) is a store that is
not available yet, as a refused connection is: the pipeline backs off and retries, it does not crash."""

from __future__ import annotations

from typing import Any

import pytest

from collector.sequence_history import ElasticsearchSequenceHistory
from collector.sinks.base import SinkUnavailable
from tests.integration.test_api_support import unique_prefix

pytestmark = pytest.mark.integration


async def test_the_sequence_history_reports_an_unassigned_shard_as_unavailable_then_answers(
    stack: Any,
) -> None:
    prefix = unique_prefix()
    index = f"{prefix}events-2026.11"
    client = stack.es.client()
    try:
        # A shard that no node may hold: searches answer 503 search_phase_execution_exception (after the
        # history's refresh has waited a minute for the shard: Elasticsearch's own wait, not ours).
        await client.indices.create(
            index=index,
            settings={"number_of_replicas": 0, "index.routing.allocation.require._name": "no-such-node"},
            wait_for_active_shards="0",
        )
        # Without the client's own retries (each 503 retried with a growing pause) the answer comes sooner.
        history = ElasticsearchSequenceHistory(client.options(max_retries=0), prefix)
        with pytest.raises(SinkUnavailable, match="503"):
            await history.last_sequences(["agent-1"])

        await client.indices.put_settings(
            index=index, settings={"index.routing.allocation.require._name": None}
        )
        await client.cluster.health(index=index, wait_for_status="green", timeout="60s")
        assert await history.last_sequences(["agent-1"]) == {}
    finally:
        await client.indices.delete(index=index, ignore_unavailable=True)
        await client.close()
