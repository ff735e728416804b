"""Removing what earlier test runs left in the test stack's Elasticsearch.

Each test writes under an index prefix of its own (``t`` or ``f`` and hex digits, then ``-``). Some drop
it at the end; the others, and any test that fails, times out or is killed, leave their indices behind
(~150 shards a full run), and the test stack is kept between runs so that the next one starts fast. Left
alone they add up to Elasticsearch's limit of 1,000 open shards per node, after which every test that
creates an index fails. So each test session starts by deleting test indices (and their templates)
created more than ``STALE_AFTER_S`` ago: old enough that no test still running on the same stack can be
using them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from typing import cast

from elasticsearch import AsyncElasticsearch, NotFoundError

from tests.support.es import EsAccess

STALE_AFTER_S = 3600
# t + hex: most tests; f + hex: the fault suite; tcli + digits: the API command-line test.
TEST_PREFIX = re.compile(r"^((?:t|f|tcli)[0-9a-f]{8,12}-)")
_NAMES_PER_REQUEST = 50  # by name, as wildcard deletes may be refused (action.destructive_requires_name)


def _chunks(names: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(names), _NAMES_PER_REQUEST):
        yield names[start : start + _NAMES_PER_REQUEST]


def stale_test_indices(
    indices: Iterable[tuple[str, int]], now_ms: int, stale_after_s: float = STALE_AFTER_S
) -> tuple[list[str], set[str]]:
    """From (index name, creation time in ms): the test indices created before the cutoff, and the
    prefixes of test indices still in use (created after it), whose templates must stay."""
    cutoff = now_ms - stale_after_s * 1000
    stale, live_prefixes = [], set()
    for name, created_ms in indices:
        if (match := TEST_PREFIX.match(name)) is None:
            continue
        if created_ms < cutoff:
            stale.append(name)
        else:
            live_prefixes.add(match[1])
    return stale, live_prefixes


async def remove_stale_test_data(access: EsAccess, stale_after_s: float = STALE_AFTER_S) -> int:
    """Deletes stale test indices and the templates of test prefixes that have no live index; returns
    how many indices were deleted."""
    client: AsyncElasticsearch = access.client()
    try:
        rows = await client.cat.indices(
            index="t*,f*", h="index,creation.date", format="json", expand_wildcards="all"
        )
        table = cast(list[dict[str, str]], rows.body)  # format=json: one object per index
        found = [(row["index"], int(row["creation.date"])) for row in table]
        stale, live_prefixes = stale_test_indices(found, int(time.time() * 1000), stale_after_s)
        for names in _chunks(stale):
            await client.indices.delete(index=",".join(names), ignore_unavailable=True)
        try:
            templates = (await client.indices.get_index_template()).body["index_templates"]
        except NotFoundError:
            templates = []
        for template in templates:
            match = TEST_PREFIX.match(template["name"])
            if match is not None and match[1] not in live_prefixes:
                await client.indices.delete_index_template(name=template["name"])
        return len(stale)
    finally:
        await client.close()
