"""Giving freed memory back to the host (agent.memory)."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from agent.memory import release_free_memory, use_one_malloc_arena

# Run apart, so that what the test runner itself allocates does not blur the figures.
_FRAGMENTED_HEAP = """
from agent.memory import release_free_memory

def rss_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

blocks = [bytes(2048) for _ in range(20_000)]  # ~40 MiB from the C heap (pymalloc stops at 512 bytes)
kept = blocks[::16]  # the survivors pin the heap: plain free() can return only its top to the OS
del blocks
before = rss_kib()
print(release_free_memory(), before - rss_kib(), len(kept))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_release_returns_the_free_pages_of_a_fragmented_heap_to_the_os() -> None:
    output = subprocess.run(
        [sys.executable, "-c", _FRAGMENTED_HEAP], capture_output=True, text=True, check=True
    ).stdout.split()
    trimmed, released_kib = output[0] == "True", int(output[1])
    assert trimmed
    assert released_kib > 20 * 1024  # of the ~37 MiB freed between the survivors


def test_release_collects_reference_cycles() -> None:
    class Node:
        partner: object = None

    def nodes() -> int:
        return sum(isinstance(obj, Node) for obj in gc.get_objects())

    gc.disable()  # only the release may collect the cycle
    try:
        first, second = Node(), Node()
        first.partner, second.partner = second, first
        del first, second
        assert nodes() == 2
        release_free_memory()
        assert nodes() == 0
    finally:
        gc.enable()


def test_one_malloc_arena_is_accepted_by_glibc() -> None:
    assert use_one_malloc_arena()
